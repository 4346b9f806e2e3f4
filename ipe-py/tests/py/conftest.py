"""Shared by the pytest suite of the `ipe` package (run by ipe-py/tests/python.rs).

The Rust test builds the wheel with maturin, installs it, and sets IPE_ROOT (the repository),
IPE_CLI (the built `ipe` binary, whose answers the binding must equal) and IPE_SCRATCH (a
scratch directory).
"""

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(os.environ["IPE_ROOT"])
CORPUS = ROOT / "tests" / "corpus"
CLI = os.environ["IPE_CLI"]
SCRATCH = pathlib.Path(os.environ["IPE_SCRATCH"])


def cli(*args, cwd=None, input=None):
    """Runs the `ipe` binary; returns (exit code, stdout, stderr)."""
    out = subprocess.run(
        [CLI, *map(str, args)],
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        check=False,
    )
    return out.returncode, out.stdout, out.stderr


def siblings(ipe_file):
    """The corpus file's data and instance files (relative to the corpus root), as the corpus
    harness passes them (`--data`, `--instances`)."""
    rel = ipe_file.relative_to(CORPUS)
    data = rel.with_suffix(".data.json")
    instances = rel.with_suffix(".instances.json")
    return (
        [str(data)] if (CORPUS / data).exists() else [],
        [str(instances)] if (CORPUS / instances).exists() else [],
    )


def cli_flags(data, instances):
    flags = []
    for d in data:
        flags += ["--data", d]
    for i in instances:
        flags += ["--instances", i]
    return flags


def seed_requests():
    lines = (ROOT / "examples" / "seed" / "requests.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture
def seed_bundle():
    import ipe

    return ipe.compile(paths=[ROOT / "examples" / "seed"])
