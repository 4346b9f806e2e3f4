// The IPE playground: the compiler and engine of ipe-wasm (built by ipe-wasm/build.sh into
// ./pkg), a policy editor underlining the real diagnostics as you type, a request editor and
// the decision. No framework; see docs/wasm.md.
import init, { check, compile, Engine } from "./pkg/ipe_wasm.js";

// The examples are read from the repository's examples/ (schema first, then the other files
// in name order), with their requests.jsonl.
const EXAMPLES = {
  seed: ["schema.ipe", "policy.ipe"],
  "k8s-admission": ["schema.ipe", "labels.ipe", "pod_security.ipe", "registries.ipe"],
  firewall: ["schema.ipe", "input.ipe", "limits.ipe"],
};
const CHECK_DELAY_MS = 250;

const $ = (id) => document.getElementById(id);
const policy = $("policy");
const backdrop = $("policy-backdrop");
const gutter = $("policy-gutter");
const request = $("request");
const status = $("status");

let engine = null; // the Engine of the last policy that compiled
let checkTimer = 0;
let evalTimer = 0;
let lastDiagnostics = [];
let exampleRequests = [];

function escapeHtml(s) {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function setStatus(text, kind) {
  status.textContent = text;
  status.className = `status ${kind ?? ""}`;
}

// ---- the policy editor: underlines and line numbers ----

function renderBackdrop() {
  const text = policy.value;
  // Ranges in UTF-16 offsets (JS string indices), sorted, not overlapping.
  const ranges = lastDiagnostics
    .map((d) => [d.start.utf16, Math.max(d.end.utf16, d.start.utf16)])
    .sort((a, b) => a[0] - b[0]);
  let html = "";
  let at = 0;
  for (let [s, e] of ranges) {
    s = Math.max(s, at);
    if (s > text.length) s = text.length;
    e = Math.min(Math.max(e, s), text.length);
    html += escapeHtml(text.slice(at, s));
    // An empty range (e.g. at the end of the text) underlines one blank cell.
    let marked = text.slice(s, e);
    if (marked === "" || marked === "\n") marked = " " + marked;
    html += `<mark>${escapeHtml(marked.endsWith("\n") ? marked.slice(0, -1) : marked)}</mark>`;
    if (marked.endsWith("\n") && e > s) html += "\n";
    at = e;
  }
  html += escapeHtml(text.slice(at));
  // A final newline needs a character after it to keep its line.
  backdrop.innerHTML = html + "\n ";
  const lines = text.split("\n").length;
  const bad = new Set(lastDiagnostics.map((d) => d.start.line));
  let numbers = "";
  for (let i = 1; i <= lines; i++) {
    numbers += bad.has(i) ? `<span class="bad">${i}</span>\n` : `${i}\n`;
  }
  gutter.innerHTML = numbers + " ";
  syncScroll();
}

function syncScroll() {
  backdrop.scrollTop = policy.scrollTop;
  backdrop.scrollLeft = policy.scrollLeft;
  gutter.scrollTop = policy.scrollTop;
}

function renderDiagnostics() {
  const list = $("diagnostics");
  list.replaceChildren();
  const summary = $("check-summary");
  if (lastDiagnostics.length === 0) {
    summary.textContent = "✓ no errors";
    summary.className = "summary ok";
    return;
  }
  const n = lastDiagnostics.length;
  summary.textContent = `${n} error${n === 1 ? "" : "s"}`;
  summary.className = "summary bad";
  for (const d of lastDiagnostics) {
    const li = el(
      "li",
      { class: "diagnostic", title: "Go to the error" },
      el("span", { class: "where" }, `${d.start.line}:${d.start.column}`),
      el("span", { class: "message" }, d.message),
    );
    if (d.help) li.append(el("span", { class: "help" }, d.help));
    li.addEventListener("click", () => {
      policy.focus();
      policy.setSelectionRange(d.start.utf16, Math.max(d.end.utf16, d.start.utf16));
    });
    list.append(li);
  }
}

function runCheck() {
  const source = policy.value;
  try {
    lastDiagnostics = check(source);
  } catch (e) {
    lastDiagnostics = [];
    setStatus(String(e), "bad");
  }
  renderBackdrop();
  renderDiagnostics();
  if (lastDiagnostics.length === 0) {
    try {
      engine = new Engine(compile(source));
      const n = engine.policies().length;
      setStatus(`compiled: ${n} polic${n === 1 ? "y" : "ies"}`, "ok");
      evaluateNow();
    } catch (e) {
      engine = null;
      setStatus(String(e.message ?? e), "bad");
      clearDecision("The policy does not compile.");
    }
  } else {
    engine = null;
    setStatus("the policy has errors", "bad");
    clearDecision("Fix the policy's errors to see a decision.");
  }
}

function scheduleCheck() {
  renderBackdrop(); // keep the overlay aligned while typing
  clearTimeout(checkTimer);
  checkTimer = setTimeout(runCheck, CHECK_DELAY_MS);
}

// ---- the decision ----

function renderDecision(d) {
  const box = $("decision");
  box.className = "decision";
  box.replaceChildren();
  box.append(
    el(
      "div",
      { class: "verdict" },
      el("span", { class: `badge ${d.decision}`, id: "decision-badge" }, d.decision.toUpperCase()),
      el("span", { class: "none" }, `${d.matched.length} matched, ${d.violations.length} violated, ${d.errors.length} errors`),
    ),
  );
  box.append(el("h3", {}, "Matched policies"));
  const chips = el("div", { class: "chips", id: "matched" });
  for (const m of d.matched) chips.append(el("span", { class: "chip" }, m));
  if (d.matched.length === 0) chips.append(el("span", { class: "none" }, "none applied"));
  box.append(chips);
  if (d.violations.length > 0) {
    box.append(el("h3", {}, "Violations"));
    for (const v of d.violations) {
      box.append(
        el(
          "div",
          { class: "card violation" },
          el("div", { class: "policy" }, v.policy),
          el("div", { class: "intent" }, v.intent ?? ""),
          el("div", { class: "reason" }, v.reason),
        ),
      );
    }
  }
  if (d.errors.length > 0) {
    box.append(el("h3", {}, "Errors"));
    for (const e of d.errors) {
      box.append(
        el(
          "div",
          { class: "card error" },
          el("div", { class: "policy" }, e.policy),
          el("div", { class: "reason" }, e.error),
        ),
      );
    }
  }
  return box;
}

function clearDecision(why) {
  const box = $("decision");
  box.className = "decision empty";
  box.replaceChildren(el("p", { class: "placeholder" }, why));
}

function evaluateNow() {
  const errorBox = $("request-error");
  errorBox.textContent = "";
  if (!engine) {
    errorBox.textContent = "Fix the policy's errors to evaluate.";
    return;
  }
  let text;
  try {
    text = engine.evaluate(request.value);
  } catch (e) {
    errorBox.textContent = String(e.message ?? e);
    clearDecision("The request is not a JSON object: see the message above.");
    return;
  }
  const box = renderDecision(JSON.parse(text));
  box.append(el("details", { class: "raw" }, el("summary", {}, "Decision JSON, as ipe eval prints it"), el("pre", { id: "decision-json" }, text)));
}

function scheduleEvaluate() {
  clearTimeout(evalTimer);
  evalTimer = setTimeout(evaluateNow, CHECK_DELAY_MS);
}

// ---- examples and sharing ----

async function fetchText(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.text();
}

function pretty(json) {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}

async function loadExample(name) {
  const files = EXAMPLES[name];
  const texts = await Promise.all(files.map((f) => fetchText(`../examples/${name}/${f}`)));
  policy.value = texts
    .map((t, i) => (files.length > 1 ? `# ---- ${files[i]} ----\n${t.trimEnd()}\n` : t))
    .join("\n");
  const lines = (await fetchText(`../examples/${name}/requests.jsonl`)).split("\n").filter((l) => l.trim());
  setRequests(lines);
  request.value = pretty(lines[0] ?? "{}");
  policy.scrollTop = 0;
  runCheck();
}

function setRequests(lines) {
  exampleRequests = lines;
  const pick = $("request-pick");
  pick.replaceChildren(el("option", { value: "" }, lines.length ? "Example requests…" : "No example requests"));
  lines.forEach((l, i) => {
    const short = l.length > 70 ? `${l.slice(0, 67)}…` : l;
    pick.append(el("option", { value: String(i) }, `${i + 1}. ${short}`));
  });
}

function toBase64Url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

async function pipe(bytes, stream) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer());
}

// The share link: `#v1=` and the policy and request as JSON, deflated, base64url.
async function shareLink() {
  const json = new TextEncoder().encode(JSON.stringify({ policy: policy.value, request: request.value }));
  const packed = await pipe(json, new CompressionStream("deflate-raw"));
  return `${location.origin}${location.pathname}#v1=${toBase64Url(packed)}`;
}

async function fromFragment() {
  const m = location.hash.match(/^#v1=([A-Za-z0-9_-]+)$/);
  if (!m) return false;
  try {
    const json = await pipe(fromBase64Url(m[1]), new DecompressionStream("deflate-raw"));
    const state = JSON.parse(new TextDecoder().decode(json));
    policy.value = String(state.policy ?? "");
    request.value = String(state.request ?? "{}");
    setRequests([]);
    $("example").value = "";
    return true;
  } catch (e) {
    setStatus(`the shared link could not be read: ${e.message ?? e}`, "bad");
    return false;
  }
}

async function main() {
  await init();
  policy.addEventListener("input", scheduleCheck);
  policy.addEventListener("scroll", syncScroll);
  policy.addEventListener("keydown", (e) => {
    if (e.key === "Tab" && !e.shiftKey) {
      e.preventDefault();
      policy.setRangeText("  ", policy.selectionStart, policy.selectionEnd, "end");
      scheduleCheck();
    }
  });
  request.addEventListener("input", scheduleEvaluate);
  $("evaluate").addEventListener("click", evaluateNow);
  $("example").addEventListener("change", (e) => {
    if (e.target.value) loadExample(e.target.value);
  });
  $("request-pick").addEventListener("change", (e) => {
    const i = Number(e.target.value);
    if (e.target.value !== "" && exampleRequests[i]) {
      request.value = pretty(exampleRequests[i]);
      evaluateNow();
    }
  });
  $("share").addEventListener("click", async () => {
    const link = await shareLink();
    history.replaceState(null, "", link);
    const button = $("share");
    try {
      await navigator.clipboard.writeText(link);
      button.textContent = "Link copied";
    } catch {
      button.textContent = "Link in the address bar";
    }
    button.classList.add("copied");
    setTimeout(() => {
      button.textContent = "Share";
      button.classList.remove("copied");
    }, 2000);
  });
  if (await fromFragment()) {
    runCheck();
  } else {
    await loadExample("seed");
  }
  document.body.dataset.ready = "true";
}

main().catch((e) => setStatus(`failed to start: ${e.message ?? e}`, "bad"));
