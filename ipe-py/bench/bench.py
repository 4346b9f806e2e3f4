"""Per-call cost of `Engine.evaluate` (dict and JSON text) against a pure-Python, dict-based
implementation of the seed rule (examples/seed/policy.ipe). Recorded in BENCHMARKS.md, never
asserted.

    python ipe-py/bench/bench.py            # from the repository root, with `ipe` installed

Each figure is the best of 5 `timeit` repeats, divided by the call count.
"""

import json
import pathlib
import sys
import timeit

import ipe

ROOT = pathlib.Path(__file__).resolve().parents[2]
RANKS = {"low": 0, "medium": 1, "high": 2, "critical": 3}

REQUEST = {
    "resource": {"type": "Deployment", "risk_level": "high"},
    "environment": "production",
    "requester": {"department": "payments"},
    "approvals": [
        {"role": "senior-engineer", "department": "platform"},
        {"role": "engineer", "department": "platform"},
        {"role": "senior-engineer", "department": "security"},
    ],
}


def seed_rule(r):
    """RequireApproval, by hand: the decision dict `ipe eval` prints (fail-closed errors left
    out: this is the cost of the happy path only)."""
    res = r["resource"]
    if not (
        res["type"] == "Deployment"
        and r["environment"] in ("production", "staging")
        and RANKS[res["risk_level"]] >= RANKS["medium"]
    ):
        return {"decision": "allow", "matched": [], "violations": [], "errors": []}
    dept = r["requester"]["department"]
    found = sum(
        1 for a in r["approvals"] if a["role"] == "senior-engineer" and a["department"] != dept
    )
    if found >= 2:
        return {"decision": "allow", "matched": ["RequireApproval"], "violations": [], "errors": []}
    return {
        "decision": "deny",
        "matched": ["RequireApproval"],
        "violations": [{"policy": "RequireApproval", "reason": f"(found {found})"}],
        "errors": [],
    }


def per_call(fn, number):
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def main():
    number = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    bundle = ipe.compile(paths=[ROOT / "examples" / "seed"])
    interp = ipe.Engine(bundle)
    jit = ipe.Engine(bundle, jit=True)
    text = json.dumps(REQUEST)
    assert interp.evaluate(REQUEST).decision == seed_rule(REQUEST)["decision"] == "allow"
    rows = [
        ("pure Python seed rule (dict)", lambda: seed_rule(REQUEST)),
        ("json.loads + pure Python rule (str)", lambda: seed_rule(json.loads(text))),
        ("Engine.evaluate(dict), interpreter", lambda: interp.evaluate(REQUEST)),
        ("Engine.evaluate(str), interpreter", lambda: interp.evaluate(text)),
        ("Engine.evaluate(dict), jit=True", lambda: jit.evaluate(REQUEST)),
        ("Engine.evaluate(str), jit=True", lambda: jit.evaluate(text)),
        ("Engine.evaluate(dict).to_dict()", lambda: interp.evaluate(REQUEST).to_dict()),
    ]
    print(f"Python {sys.version.split()[0]}, {number} calls per repeat, best of 5")
    for name, fn in rows:
        print(f"| {name} | {per_call(fn, number) * 1e9:,.0f} ns |")


if __name__ == "__main__":
    main()
