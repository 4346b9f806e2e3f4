// The ipe-wasm package under Node (`node --test`), driven by ipe-wasm/tests/wasm.rs, which
// builds the packages and writes the cases with the CLI's own decisions:
//   IPE_WASM_NODE         the compiler + engine package (wasm-bindgen --target nodejs)
//   IPE_WASM_NODE_ENGINE  the engine-only package
//   IPE_WASM_CASES        {"bundles": [...], "fails": [...]} (see wasm.rs, `cases_json`)
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const ipe = require(process.env.IPE_WASM_NODE);
const engineOnly = require(process.env.IPE_WASM_NODE_ENGINE);
const cases = JSON.parse(readFileSync(process.env.IPE_WASM_CASES, "utf8"));

test("the two builds say what they hold", () => {
  assert.equal(ipe.hasCompiler(), true);
  assert.equal(engineOnly.hasCompiler(), false);
  assert.equal(typeof engineOnly.check, "undefined");
  assert.equal(typeof engineOnly.compile, "undefined");
});

for (const b of cases.bundles) {
  test(`${b.id}: ${b.requests.length} requests decide as \`ipe eval\``, () => {
    assert.deepEqual(ipe.check(b.files, b.data, b.instances), []);
    const bundle = ipe.compile(b.files, b.data, b.instances);
    assert.ok(bundle instanceof Uint8Array);
    assert.deepEqual(Array.from(bundle), b.bundle, "the CLI's bundle bytes");
    const full = new ipe.Engine(bundle);
    const engine = new engineOnly.Engine(bundle);
    b.requests.forEach((request, i) => {
      const want = b.expected[i];
      if (typeof want === "string") {
        assert.equal(full.evaluate(request), want, `request ${i}: ${request}`);
        assert.equal(engine.evaluate(request), want, `engine-only, request ${i}`);
        assert.equal(engineOnly.evaluate(bundle, request), want, `evaluate(), request ${i}`);
      } else {
        assert.throws(() => full.evaluate(request), { message: want.error });
        assert.throws(() => engine.evaluate(request), { message: want.error });
      }
    });
  });
}

for (const b of cases.bundles) {
  if (b.explains.length === 0) continue;
  test(`${b.id}: ${b.explains.length} explanations as \`ipe explain\``, () => {
    for (const x of b.explains) {
      const now = x.now_ms ?? undefined;
      const at = `${x.request} at ${x.now_ms}`;
      assert.equal(ipe.explain(b.files, x.request, now, "text", b.data, b.instances), x.text, at);
      assert.equal(ipe.explain(b.files, x.request, now, "json", b.data, b.instances), x.json, at);
      if (now === undefined) {
        assert.equal(ipe.explain(b.files, x.request, undefined, undefined, b.data, b.instances), x.text);
      }
    }
  });
}

test("explain: the engine-only build has none; bad arguments throw", () => {
  assert.equal(typeof engineOnly.explain, "undefined");
  const src = 'default allow\npolicy P:\n  "a is one"\n  triggers when a == 1\n  denies\n';
  assert.match(ipe.explain(src, '{"a": 1}'), /^decision: deny: deny-overrides \(1 violated, 0 in error\)\n/);
  assert.equal(JSON.parse(ipe.explain(src, '{"a": 2}', undefined, "json")).decision, "allow");
  assert.throws(() => ipe.explain(src, "[1]"), { message: "malformed request: expected a JSON object" });
  assert.throws(() => ipe.explain(src, "{}", undefined, "yaml"), /format/);
  assert.throws(() => ipe.explain(src, "{}", 1.5), /nowMs/);
  assert.throws(() => ipe.explain(ipe.compile(src), "{}"), /not a bundle/);
  assert.throws(() => ipe.explain("policy", "{}"), /^Error: error: /);
});

for (const f of cases.fails) {
  test(`${f.id}: check() locates the first error`, () => {
    const found = ipe.check(f.files, f.data, f.instances);
    assert.ok(found.length > 0, "diagnostics");
    const d = found[0];
    assert.equal(d.severity, "error");
    assert.ok(d.message.includes(f.error), `message ${JSON.stringify(d.message)} has ${JSON.stringify(f.error)}`);
    if (f.help !== null) {
      assert.ok((d.help ?? "").includes(f.help), `help ${JSON.stringify(d.help)} has ${JSON.stringify(f.help)}`);
    }
    const text = f.files[d.file] ?? f.data?.[d.file] ?? f.instances?.[d.file];
    assert.equal(typeof text, "string", `the file ${d.file} is one of the inputs`);
    if (f.underline !== null) {
      const bytes = Buffer.from(text, "utf8");
      assert.equal(bytes.subarray(d.start.offset, d.end.offset).toString("utf8"), f.underline);
      assert.equal(text.slice(d.start.utf16, d.end.utf16), f.underline);
    }
    // line and column agree with the offset (columns count characters)
    const before = text.slice(0, d.start.utf16);
    const lines = before.split("\n");
    assert.equal(d.start.line, lines.length);
    assert.equal(d.start.column, [...lines[lines.length - 1]].length + 1);
    assert.ok(d.rendered.startsWith(`error: ${d.message}\n`));
    assert.throws(() => ipe.compile(f.files, f.data, f.instances), (e) => {
      assert.equal(e.diagnostics[0].message, d.message);
      assert.ok(e.message.startsWith(d.rendered.trimEnd()));
      return true;
    });
  });
}

test("a malformed request and a bad bundle throw, in the CLI's words", () => {
  const bundle = ipe.compile('default allow\npolicy P:\n  "a is one"\n  triggers when a == 1\n  denies\n');
  assert.throws(() => ipe.evaluate(bundle, "[1]"), { message: "malformed request: expected a JSON object" });
  assert.throws(() => ipe.evaluate(bundle, "{"), /^Error: malformed request: EOF while parsing/);
  assert.throws(() => ipe.evaluate(new Uint8Array([1, 2, 3]), "{}"), /not a valid bundle/);
  assert.throws(() => ipe.evaluate(bundle, "{}", 1.5), /nowMs/);
});

test("nowMs replaces the request's now, as `ipe eval --now`", () => {
  const bundle = ipe.compile(
    'schema {\n  t: timestamp\n}\ndefault allow\npolicy Late:\n  "t is past"\n  triggers when t < now\n  denies\n',
  );
  const req = JSON.stringify({ t: "2026-01-01T00:00:00Z", now: "2025-01-01T00:00:00Z" });
  assert.equal(JSON.parse(ipe.evaluate(bundle, req)).decision, "allow");
  assert.equal(JSON.parse(ipe.evaluate(bundle, req, Date.UTC(2027, 0, 1))).decision, "deny");
});
