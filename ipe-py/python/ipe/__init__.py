"""IPE, the Intent Policy Engine, from Python.

Compile policies with :func:`compile` (diagnostics raise :class:`CompileError`), load the
bundle into an :class:`Engine`, and decide requests with :meth:`Engine.evaluate`: the same
decisions ``ipe eval`` prints, from the same engine (``ipe-host``), with the GIL released
while a request is decided. One engine serves any number of threads; :meth:`Engine.swap`
replaces its bundle atomically while they evaluate.

>>> import ipe
>>> bundle = ipe.compile('policy NoFriday:\n  "no deploys on fridays"\n  triggers when day == "fri"\n  denies\n')
>>> engine = ipe.Engine(bundle)
>>> engine.evaluate({"day": "fri"}).decision
'deny'
"""

from ipe._ipe import (
    Bundle,
    BundleError,
    CompileError,
    Decision,
    Diagnostic,
    Engine,
    RequestError,
    compile,
)

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
