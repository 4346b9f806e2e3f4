"""Every corpus request case through the binding equals the CLI's decision JSON.

For each `tests/corpus/**/<name>.ipe` with a `<name>.cases.json`, the CLI decides every
request of the file in one `ipe eval --input batch.jsonl` run; the binding decides each
request as a dict and as JSON text, on the interpreter and on the JIT, and every answer must
equal the CLI's line (`json.loads`) and the case's hand-written expectation (without intents).
"""

import json

import pytest

import ipe
from conftest import CORPUS, SCRATCH, cli, cli_flags, siblings

FILES = sorted(p for p in CORPUS.rglob("*.ipe") if p.with_suffix(".cases.json").exists())


def test_the_corpus_is_there():
    # The corpus README counts 148 request files; fewer means the glob went wrong.
    assert len(FILES) >= 148


def without_intents(d):
    return {**d, "violations": [{k: v for k, v in x.items() if k != "intent"} for x in d["violations"]]}


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS).with_suffix("")))
def test_corpus_file_agrees_with_the_cli(path, monkeypatch):
    monkeypatch.chdir(CORPUS)
    cases = json.loads(path.with_suffix(".cases.json").read_text())
    data, instances = siblings(path)
    rel = str(path.relative_to(CORPUS))
    texts = [json.dumps(c["request"]) for c in cases]
    batch = SCRATCH / (rel.replace("/", "__") + ".jsonl")
    batch.write_text("\n".join(texts) + "\n")
    code, out, err = cli("eval", rel, *cli_flags(data, instances), "--input", batch)
    assert code == 0, err
    answers = [json.loads(line) for line in out.splitlines()]
    assert len(answers) == len(cases)

    bundle = ipe.compile(paths=[rel], data=data, instances=instances)
    engines = {"interp": ipe.Engine(bundle), "jit": ipe.Engine(bundle, jit=True)}
    for case, text, want in zip(cases, texts, answers):
        for name, engine in engines.items():
            as_dict = engine.evaluate(case["request"])
            as_text = engine.evaluate(text)
            where = f"{rel}: {case['name']} ({name})"
            assert as_dict.to_dict() == want, where
            assert as_text.to_dict() == want, where
            assert json.loads(as_dict.to_json()) == want, where
            assert as_dict.decision == want["decision"], where
            assert as_dict.matched == want["matched"], where
            assert as_dict.violations == want["violations"], where
            assert as_dict.errors == want["errors"], where
        assert without_intents(want) == case["expect"], f"{rel}: {case['name']}"
