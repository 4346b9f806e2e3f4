"""The engine: seed decisions equal the CLI's, errors, `now`, swaps under threads, reload,
signed bundles and stats."""

import concurrent.futures
import datetime
import json
import threading

import pytest

import ipe
from conftest import ROOT, SCRATCH, cli, seed_requests

DENY = 'policy Deny:\n  "deny everything"\n  denies with reason "version A"\n'
ALLOW = 'default allow\npolicy Never:\n  "never applies"\n  triggers when flag == true\n  denies\n'


def test_seed_requests_agree_with_the_cli(seed_bundle):
    code, out, err = cli("eval", ROOT / "examples" / "seed", "--input", ROOT / "examples" / "seed" / "requests.jsonl")
    assert code == 0, err
    want = [json.loads(line) for line in out.splitlines()]
    requests = seed_requests()
    assert len(want) == len(requests) > 0
    for jit in (False, True):
        engine = ipe.Engine(seed_bundle, jit=jit)
        got = [engine.evaluate(r).to_dict() for r in requests]
        assert got == want


def test_engine_from_bytes_path_and_bundle(seed_bundle, tmp_path):
    path = tmp_path / "seed.ipeb"
    seed_bundle.write(path)
    assert path.read_bytes() == seed_bundle.to_bytes() == bytes(seed_bundle)
    assert ipe.Bundle.open(path).policies == seed_bundle.policies == ["RequireApproval"]
    request = seed_requests()[0]
    decisions = {
        ipe.Engine(x).evaluate(request).to_json()
        for x in (seed_bundle, seed_bundle.to_bytes(), path, str(path))
    }
    assert len(decisions) == 1
    code, out, _ = cli("eval", path, "--input", "-", input=json.dumps(request) + "\n")
    assert code == 0 and decisions == {out.strip()}
    engine = ipe.Engine(path)
    assert engine.policies == ["RequireApproval"]
    assert repr(engine) == "<ipe.Engine version 1, 1 policies>"
    assert repr(seed_bundle).startswith("<ipe.Bundle 1 policies, ")


def test_decision_attributes(seed_bundle):
    engine = ipe.Engine(seed_bundle)
    d = engine.evaluate({"resource": {"type": "Deployment", "risk_level": "high"}, "environment": "production",
                         "requester": {"department": "a"}, "approvals": []})
    assert d.decision == "deny" and not d.allowed
    assert d.matched == ["RequireApproval"]
    assert [v["policy"] for v in d.violations] == ["RequireApproval"]
    assert d.violations[0]["reason"].endswith("(found 0)")
    assert d.errors == []
    assert repr(d) == '<ipe.Decision deny matched=["RequireApproval"] violations=1 errors=0>'
    text = json.dumps({"resource": {"type": "Deployment", "risk_level": "high"}, "environment": "production",
                       "requester": {"department": "a"}, "approvals": []})
    assert d == engine.evaluate(text) and d != engine.evaluate({"environment": "dev"})
    missing = engine.evaluate({"resource": {"type": "Deployment"}, "environment": "production"})
    assert missing.decision == "deny" and missing.matched == []
    assert missing.errors and "resource.risk_level" in missing.errors[0]["error"]


def test_malformed_requests(seed_bundle):
    engine = ipe.Engine(seed_bundle)
    for text, detail in [("[1]", "expected a JSON object"), ('{"a": 1,}', "trailing comma"), ('{"a": tru}', "expected ident")]:
        with pytest.raises(ipe.RequestError, match=detail):
            engine.evaluate(text)
        code, out, _ = cli("eval", ROOT / "examples" / "seed", "--input", "-", input=text + "\n")
        assert json.loads(out)["error"].endswith(str(pytest.raises(ipe.RequestError, engine.evaluate, text).value))
    with pytest.raises(ipe.RequestError, match="duplicate"):
        engine.evaluate('{"a": 1, "a": 2}')
    with pytest.raises(TypeError):
        engine.evaluate(["not", "a", "dict"])
    with pytest.raises(TypeError, match="keys are str"):
        engine.evaluate({1: "x"})
    with pytest.raises(TypeError, match="set"):
        engine.evaluate({"x": {1, 2}})
    with pytest.raises(ValueError, match="NaN"):
        engine.evaluate({"x": float("nan")})
    assert engine.evaluate(b'{"environment": "dev"}').decision == "allow"


def test_request_values_are_written_as_json():
    source = ('default allow\nschema {\n  n: int\n  s: string\n  b: bool\n  l: list of string\n}\n'
              'policy P:\n  "x"\n  triggers when n == 5 and s == "é ü" and b and "x" in l\n  denies\n')
    engine = ipe.Engine(ipe.compile(source))
    request = {"n": 5, "s": "é ü", "b": True, "l": ("y", "x"), "other": [None, 1.5, {"k": -2}]}
    assert engine.evaluate(request).decision == "deny"
    assert engine.evaluate({**request, "n": 5.0}).decision == "deny"
    assert engine.evaluate({**request, "l": ["y"]}).decision == "allow"
    assert engine.evaluate({**request, "b": 1}).errors[0]["policy"] == "P"
    for n in (2**70, -(2**64), 5.5, 1e300):
        got = engine.evaluate({**request, "n": n}).to_dict()
        assert got == engine.evaluate(json.dumps({**request, "n": n})).to_dict()
        assert got["errors"][0]["policy"] == "P"


def test_now():
    source = 'default allow\npolicy Late:\n  "after the deadline"\n  triggers when now > timestamp("2026-01-01T00:00:00Z")\n  denies\n'
    engine = ipe.Engine(ipe.compile(source))
    assert engine.evaluate({}).errors[0]["error"].find("now") >= 0
    assert engine.evaluate({}, now="2026-06-01T00:00:00Z").decision == "deny"
    assert engine.evaluate({}, now=1700000000).decision == "allow"
    aware = datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc)
    assert engine.evaluate({"now": "2020-01-01T00:00:00Z"}, now=aware).decision == "deny"
    with pytest.raises(ValueError, match="naive"):
        engine.evaluate({}, now=datetime.datetime(2027, 1, 1))
    with pytest.raises(ValueError, match="not a timestamp"):
        engine.evaluate({}, now="yesterday")


def test_swap_under_threads():
    deny, allow = ipe.compile(DENY), ipe.compile(ALLOW)
    want = {ipe.Engine(b).evaluate({"flag": False}).to_json() for b in (deny, allow)}
    assert len(want) == 2
    engine = ipe.Engine(deny)
    stop = threading.Event()
    swaps = 0

    def swapper():
        nonlocal swaps
        while not stop.is_set() or swaps < 50:
            engine.swap(allow if swaps % 2 == 0 else deny.to_bytes())
            swaps += 1

    def reader(n):
        return {engine.evaluate({"flag": False}).to_json() for _ in range(n)}

    t = threading.Thread(target=swapper)
    t.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            seen = set().union(*pool.map(reader, [300] * 16))
    finally:
        stop.set()
        t.join()
    assert seen <= want and seen
    assert engine.version == 1 + swaps


def test_refused_swap_keeps_the_live_bundle(seed_bundle):
    engine = ipe.Engine(seed_bundle)
    with pytest.raises(ipe.BundleError):
        engine.swap(b"not a bundle")
    with pytest.raises(ipe.BundleError):
        ipe.Engine(b"IPEB")
    with pytest.raises(ipe.BundleError):
        ipe.Bundle.from_bytes(b"nope")
    with pytest.raises(TypeError):
        engine.swap(42)
    assert engine.version == 1 and engine.policies == ["RequireApproval"]
    with pytest.raises(ValueError, match="nothing to reload"):
        engine.reload()


def test_reload(tmp_path):
    path = tmp_path / "live.ipeb"
    ipe.compile(DENY).write(path)
    engine = ipe.Engine(path)
    assert engine.evaluate({}).decision == "deny"
    ipe.compile(ALLOW).write(path)
    assert engine.reload() == 2
    assert engine.evaluate({"flag": False}).decision == "allow"
    path.write_bytes(b"broken")
    with pytest.raises(ipe.BundleError):
        engine.reload()
    assert engine.version == 2 and engine.evaluate({"flag": False}).decision == "allow"


def test_stats():
    engine = ipe.Engine(ipe.compile(ALLOW + 'policy Always:\n  "always"\n  requires n > 1\n'))
    for n in range(10):
        engine.evaluate({"flag": n % 2 == 0, "n": n})
    engine.evaluate({"flag": "text", "n": "text"})
    stats = engine.stats()
    assert stats["version"] == 1
    never, always = stats["policies"]
    assert never["name"] == "Never" and always["name"] == "Always"
    # The trigger index skips `Never` where `flag` is not true: candidates only are counted.
    assert 6 <= never["evaluations"] <= 11 and never["applied"] == 5 and never["violated"] == 5
    assert never["errors"] == 1
    assert always["evaluations"] == always["applied"] == 11 and always["violated"] == 2 and always["errors"] == 1
    assert never["code"] == "interpreter"
    assert set(stats["jit"]) == {"baseline", "optimized", "batches", "compiled", "reused", "failures", "compile_micros"}
    jit = ipe.Engine(ipe.compile(ALLOW), jit=True)
    jit.evaluate({"flag": True})
    assert jit.stats()["policies"][0]["code"] != "interpreter"
    assert (jit.stats()["jit"]["compiled"], jit.stats()["jit"]["reused"]) == (1, 0)
    # The same policy again: the new version takes the live version's native code (issue #15).
    jit.swap(ipe.compile(ALLOW))
    assert (jit.stats()["jit"]["compiled"], jit.stats()["jit"]["reused"]) == (0, 1)
    assert jit.stats()["policies"][0]["code"] != "interpreter"
    engine.swap(ipe.compile(ALLOW))
    assert engine.stats()["version"] == 2 and engine.stats()["policies"][0]["evaluations"] == 0


def test_signed_bundles(tmp_path):
    key = tmp_path / "release.key"
    code, _, err = cli("keygen", "-o", key)
    assert code == 0, err
    src = tmp_path / "p.ipe"
    src.write_text(DENY)
    signed = tmp_path / "p.signed"
    code, _, err = cli("compile", src, "-o", signed, "--sign", key, "--revision", "3")
    assert code == 0, err
    pub = tmp_path / "release.key.pub"
    hex_key = pub.read_text().split()[-1]
    for trusted in (pub, str(pub), hex_key, bytes.fromhex(hex_key), [hex_key]):
        engine = ipe.Engine(signed, trusted_key=trusted)
        assert engine.evaluate({}).decision == "deny"
    engine = ipe.Engine(signed.read_bytes(), trusted_key=hex_key)
    with pytest.raises(ipe.BundleError):
        engine.swap(ipe.compile(ALLOW))  # unsigned: refused
    assert engine.evaluate({}).decision == "deny"
    with pytest.raises(ipe.BundleError):
        ipe.Engine(signed, trusted_key=bytes(32))
    with pytest.raises(ValueError, match="32 bytes"):
        ipe.Engine(signed, trusted_key=b"short")
