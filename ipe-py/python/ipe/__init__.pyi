"""Type stubs of the `ipe` package (the extension module `ipe._ipe`)."""

import datetime
import os
from typing import Any, Literal, Mapping, Sequence, TypedDict, Union

__all__ = [
    "Bundle",
    "BundleError",
    "CompileError",
    "Decision",
    "Diagnostic",
    "Engine",
    "RequestError",
    "compile",
]

_Path = Union[str, os.PathLike[str]]
_Json = Union[Mapping[str, Any], Sequence[Any]]
_Key = Union[bytes, str, os.PathLike[str]]
_Now = Union[int, str, datetime.datetime]

class CompileError(ValueError):
    """The sources do not compile. `str(e)` is the text `ipe check` prints."""

    diagnostics: list[Diagnostic]

class BundleError(ValueError):
    """A bundle is not valid (bad bytes, over the cost budget, or refused by the trust policy)."""

class RequestError(ValueError):
    """A request is not a JSON object (or a dict that can be written as one); no decision."""

class Diagnostic:
    """One compile diagnostic. Lines and columns are 1-based (columns in characters); the end
    is exclusive."""

    @property
    def message(self) -> str: ...
    @property
    def help(self) -> str | None: ...
    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...
    @property
    def end_line(self) -> int: ...
    @property
    def end_column(self) -> int: ...
    @property
    def rendered(self) -> str:
        """The diagnostic as `ipe check` renders it (source line, caret, help)."""

class Bundle:
    """A compiled, verified bundle: the bytes `ipe compile -o` writes."""

    @staticmethod
    def from_bytes(data: bytes, *, max_cost: int | None = None) -> Bundle:
        """A bundle from compiled (or signed) bundle bytes; raises `BundleError` when invalid."""
    @staticmethod
    def open(path: _Path, *, max_cost: int | None = None) -> Bundle:
        """Reads a bundle file."""
    def to_bytes(self) -> bytes:
        """The bundle bytes."""
    def __bytes__(self) -> bytes: ...
    def write(self, path: _Path) -> None:
        """Writes the bundle to a file (`ipe eval` and `ipe inspect` read it)."""
    @property
    def policies(self) -> list[str]:
        """The policy names, in bundle order."""
    def __len__(self) -> int: ...

def compile(
    source: str | None = None,
    paths: Sequence[_Path] | None = None,
    data: _Path | Mapping[str, Any] | Sequence[_Path | Mapping[str, Any]] | None = None,
    *,
    instances: _Path | _Json | Sequence[_Path | _Json] | None = None,
    max_cost: int | None = None,
    name: str | None = None,
) -> Bundle:
    """Compiles IPE sources into a verified bundle.

    Give `source` (one file's text, named `name` in diagnostics, default `<source>`) or
    `paths` (files, or directories contributing their `.ipe` files). `data`: data files whose
    top-level keys are constants (`ipe compile --data`), as paths or dicts. `instances`:
    template instance files (`--instances`), as paths or JSON values. Raises `CompileError`.
    """

class _Violation(TypedDict):
    policy: str
    intent: str
    reason: str

class _Error(TypedDict):
    policy: str
    error: str

class _DecisionDict(TypedDict):
    decision: Literal["allow", "deny"]
    matched: list[str]
    violations: list[_Violation]
    errors: list[_Error]

class Decision:
    """A decision, as `ipe eval` prints it."""

    @property
    def decision(self) -> Literal["allow", "deny"]: ...
    @property
    def allowed(self) -> bool: ...
    @property
    def matched(self) -> list[str]:
        """The policies that applied, in policy order."""
    @property
    def violations(self) -> list[_Violation]: ...
    @property
    def errors(self) -> list[_Error]:
        """Policies that could not be decided (a missing or wrong-typed attribute)."""
    def to_dict(self) -> _DecisionDict:
        """The decision JSON `ipe eval` prints, parsed."""
    def to_json(self) -> str:
        """The decision JSON line `ipe eval` prints."""

class _PolicyStats(TypedDict):
    name: str
    evaluations: int
    applied: int
    violated: int
    errors: int
    mean_nanos: float | None
    code: str

class _JitStats(TypedDict):
    baseline: int
    optimized: int
    batches: int
    compiled: int
    failures: int
    compile_micros: int

class _Stats(TypedDict):
    version: int
    policies: list[_PolicyStats]
    jit: _JitStats

class Engine:
    """A policy engine over one bundle at a time, shared by any number of threads."""

    def __init__(
        self,
        bundle: Bundle | bytes | _Path,
        *,
        jit: bool = False,
        trusted_key: _Key | Sequence[_Key] | None = None,
        max_cost: int | None = None,
    ) -> None:
        """Loads and verifies a bundle. `jit=True` compiles every policy to native code at
        load; `trusted_key` requires signed bundles (this load, every swap and reload)."""
    def evaluate(
        self, request: Mapping[str, Any] | str | bytes, *, now: _Now | None = None
    ) -> Decision:
        """Decides one request (a dict or JSON text), with the GIL released. `now` replaces
        the request's `now` (as `ipe eval --now`). Raises `RequestError`."""
    def swap(self, bundle: Bundle | bytes | _Path) -> int:
        """Publishes a new bundle atomically; returns the new version."""
    def reload(self) -> int:
        """Reads the engine's bundle file again (engines made from a path)."""
    @property
    def version(self) -> int: ...
    @property
    def policies(self) -> list[str]: ...
    def stats(self) -> _Stats:
        """The live version's per-policy counters."""
