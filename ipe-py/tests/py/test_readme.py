"""README's "From Python" snippet runs as written and prints the CLI's decision."""

import ast
import json
import subprocess
import sys

from conftest import ROOT, cli


def snippet():
    section = (ROOT / "README.md").read_text().split("### From Python", 1)[1]
    section = section.split("\n## ", 1)[0].split("\n### ", 1)[0]
    body = section.split("```python\n", 1)[1]
    return body.split("```", 1)[0]


def test_readme_snippet_prints_the_cli_decision():
    code = snippet()
    assert 5 <= len(code.strip().splitlines()) <= 12
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    first, second, third = out.stdout.splitlines()
    request = {"resource": {"type": "Deployment", "risk_level": "high"}, "environment": "production", "approvals": []}
    status, cli_out, err = cli("eval", "examples/seed", "--input", "-", cwd=ROOT, input=json.dumps(request) + "\n")
    assert status == 0, err
    want = json.loads(cli_out)
    assert first == f"{want['decision']} {want['matched']!r}" == "deny ['RequireApproval']"
    assert ast.literal_eval(second) == want
    assert third == "2 0"
