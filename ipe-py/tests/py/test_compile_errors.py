"""Compile errors: `ipe.CompileError` carries the text `ipe check` prints and structured
diagnostics whose fields locate what each compile-fail corpus case says is underlined."""

import pytest

import ipe
from conftest import CORPUS, cli, cli_flags, siblings

FAIL = sorted(p for p in (CORPUS / "fail").glob("*.ipe") if not p.with_suffix(".cases.json").exists())


def directives(path):
    """The `# error:`, `# underline:` and `# help:` lines of a compile-fail file."""
    out = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        s = line.lstrip()
        if not s.startswith("#"):
            break
        key, sep, value = s[1:].strip().partition(":")
        if sep and key in ("error", "underline", "help"):
            out[key] = value.strip()
    return out


def underlined(d):
    """The text between a diagnostic's start and (exclusive) end, read from its file."""
    text = (CORPUS / d.file).read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    if d.line == d.end_line:
        return lines[d.line - 1][d.column - 1 : d.end_column - 1]
    parts = [lines[d.line - 1][d.column - 1 :]]
    parts += lines[d.line : d.end_line - 1]
    parts.append(lines[d.end_line - 1][: d.end_column - 1])
    return "\n".join(parts)


def test_the_fail_cases_are_there():
    assert len(FAIL) >= 250


@pytest.mark.parametrize("path", FAIL, ids=lambda p: p.stem)
def test_compile_error_equals_ipe_check(path, monkeypatch):
    monkeypatch.chdir(CORPUS)
    rel = str(path.relative_to(CORPUS))
    data, instances = siblings(path)
    with pytest.raises(ipe.CompileError) as raised:
        ipe.compile(paths=[rel], data=data, instances=instances)
    e = raised.value
    code, out, err = cli("check", rel, *cli_flags(data, instances))
    assert code == 1
    assert err == str(e) + "\n"
    assert isinstance(e, ValueError)
    want = directives(path)
    first = e.diagnostics[0]
    assert want["error"] in first.message
    if "underline" in want:
        assert underlined(first) == want["underline"]
    if "help" in want:
        assert want["help"] in first.help
    assert str(e).startswith(first.rendered)
    assert all(isinstance(d, ipe.Diagnostic) for d in e.diagnostics)


def test_source_text_diagnostics_have_fields():
    source = 'schema {\n  n: int\n}\npolicy P:\n  "x"\n  triggers when m == 1\n  denies\n'
    with pytest.raises(ipe.CompileError) as raised:
        ipe.compile(source, name="inline.ipe")
    (d,) = raised.value.diagnostics
    assert d.file == "inline.ipe"
    assert (d.line, d.column, d.end_line, d.end_column) == (6, 17, 6, 18)
    assert d.message == "unknown attribute `m`"
    assert d.help == "did you mean `n`?"
    assert "--> inline.ipe:6:17" in str(raised.value)
    assert str(raised.value).endswith("error: 1 error found")


def test_compile_arguments():
    with pytest.raises(ValueError, match="not both or neither"):
        ipe.compile()
    with pytest.raises(ValueError, match="not both or neither"):
        ipe.compile("default allow", paths=["x.ipe"])
    with pytest.raises(OSError):
        ipe.compile(paths=["/nonexistent/dir/p.ipe"])
    with pytest.raises(TypeError):
        ipe.compile("default allow", data=42)


def test_data_as_a_dict(tmp_path):
    source = 'default allow\nschema {\n  n: int\n}\npolicy P:\n  "x"\n  triggers when n > limit\n  denies\n'
    engine = ipe.Engine(ipe.compile(source, data={"limit": 3}))
    assert engine.evaluate({"n": 4}).decision == "deny"
    assert engine.evaluate({"n": 3}).decision == "allow"
    path = tmp_path / "limits.data.json"
    path.write_text('{"limit": 10}')
    engine.swap(ipe.compile(source, data=[path]))
    assert engine.evaluate({"n": 4}).decision == "allow"
    with pytest.raises(ipe.CompileError, match="limit"):
        ipe.compile(source)
