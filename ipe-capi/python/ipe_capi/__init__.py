"""IPE's C ABI from Python (`ipe_capi`): pure Python over ``ctypes``, the C ABI's own Python test.

The full Python package is `ipe` (crate ipe-py, PyO3, `pip install` a wheel built by maturin).

The package loads the shared library built by ``cargo build -p ipe-capi``
(``target/<profile>/libipe_capi.so``; ``.dylib`` on macOS). Set ``IPE_CAPI_LIB`` to its path,
or put it where the system loader finds it.

>>> import ipe_capi
>>> bundle = ipe_capi.Bundle.open("policies.ipeb")          # compiled with `ipe compile`
>>> bundle.decide({"resource": {"type": "Deployment"}, "environment": "production"})
{'decision': 'deny', 'matched': [...], 'violations': [...], 'errors': [...]}

A ``Bundle`` is safe to share between threads: each call into the library releases the GIL,
and ``swap``/``reload`` publish a new version atomically while other threads decide.
Failures raise ``IpeError`` (or its subclasses ``BundleError`` and ``RequestError``) carrying
the library's status name and message.
"""

import ctypes
import ctypes.util
import json
import os
import sys
import threading

__all__ = ["Bundle", "IpeError", "BundleError", "RequestError", "load_library"]

# IpeStatus values (include/ipe.h).
_OK = 0
_INVALID_UTF8 = 2
_IO = 3
_BAD_BUNDLE = 4
_BAD_REQUEST = 5
_BUFFER_TOO_SMALL = 6


class IpeError(Exception):
    """A call into the library failed: ``status`` (the number), ``status_name``
    (``"IPE_STATUS_..."``) and ``message`` (the library's explanation)."""

    def __init__(self, status, status_name, message):
        super().__init__(f"{message} ({status_name})")
        self.status = status
        self.status_name = status_name
        self.message = message


class BundleError(IpeError):
    """The bytes are not a valid bundle, or its file could not be read."""


class RequestError(IpeError):
    """The request is malformed (not a JSON object, or a key repeated)."""


class _Decision(ctypes.Structure):
    _fields_ = [
        ("effect", ctypes.c_int),
        ("matched", ctypes.c_uint32),
        ("violations", ctypes.c_uint32),
        ("errors", ctypes.c_uint32),
        ("version", ctypes.c_uint64),
    ]


_lib = None
_lib_lock = threading.Lock()


def _library_path():
    explicit = os.environ.get("IPE_CAPI_LIB")
    if explicit:
        return explicit
    found = ctypes.util.find_library("ipe_capi")
    if found:
        return found
    raise OSError(
        "libipe_capi not found: build it with `cargo build -p ipe-capi` and set IPE_CAPI_LIB "
        "to target/<profile>/libipe_capi" + (".dylib" if sys.platform == "darwin" else ".so")
    )


def load_library(path=None):
    """Loads the shared library (``path``, else ``IPE_CAPI_LIB``, else the system loader's
    search) once and declares its functions; returns the ``ctypes.CDLL``."""
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        lib = ctypes.CDLL(path or _library_path())
        engine_p = ctypes.c_void_p
        size_p = ctypes.POINTER(ctypes.c_size_t)
        u64_p = ctypes.POINTER(ctypes.c_uint64)
        signatures = {
            "ipe_engine_open_bytes": [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(engine_p)],
            "ipe_engine_open_file": [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(engine_p)],
            "ipe_engine_swap_bytes": [engine_p, ctypes.c_char_p, ctypes.c_size_t, u64_p],
            "ipe_engine_reload": [engine_p, u64_p],
            "ipe_engine_info": [engine_p, u64_p, size_p],
            "ipe_decide_json": [
                engine_p,
                ctypes.c_char_p,
                ctypes.c_size_t,
                ctypes.POINTER(_Decision),
                ctypes.c_char_p,
                ctypes.c_size_t,
                size_p,
            ],
            "ipe_last_error": [ctypes.c_char_p, ctypes.c_size_t, size_p],
        }
        for name, args in signatures.items():
            fn = getattr(lib, name)
            fn.argtypes = args
            fn.restype = ctypes.c_int
        lib.ipe_engine_free.argtypes = [engine_p]
        lib.ipe_engine_free.restype = None
        lib.ipe_status_name.argtypes = [ctypes.c_int32]
        lib.ipe_status_name.restype = ctypes.c_char_p
        _lib = lib
        return lib


def _raise(lib, status, default=IpeError):
    needed = ctypes.c_size_t(0)
    buf = ctypes.create_string_buffer(1024)
    if lib.ipe_last_error(buf, len(buf), ctypes.byref(needed)) == _BUFFER_TOO_SMALL:
        buf = ctypes.create_string_buffer(needed.value)
        lib.ipe_last_error(buf, len(buf), None)
    message = buf.value.decode("utf-8", "replace")
    name = lib.ipe_status_name(status).decode("ascii")
    if status in (_BAD_BUNDLE, _IO):
        cls = BundleError
    elif status in (_BAD_REQUEST, _INVALID_UTF8):
        cls = RequestError
    else:
        cls = default
    raise cls(status, name, message)


class Bundle:
    """A verified policy bundle loaded into the engine: decide requests, swap or reload it.

    Create one with ``Bundle.open(path)`` or ``Bundle.from_bytes(data)``; close it with
    ``close()`` or a ``with`` block (it is also freed when collected)."""

    def __init__(self, handle, lib):
        self._handle = ctypes.c_void_p(handle)
        self._lib = lib
        self._buf = threading.local()

    @classmethod
    def open(cls, path):
        """Opens a compiled bundle file (``ipe compile ... -o path``) and verifies it."""
        lib = load_library()
        raw = os.fsencode(path)
        handle = ctypes.c_void_p()
        status = lib.ipe_engine_open_file(raw, len(raw), ctypes.byref(handle))
        if status != _OK:
            _raise(lib, status)
        return cls(handle.value, lib)

    @classmethod
    def from_bytes(cls, data):
        """Loads bundle bytes (copied) and verifies them."""
        lib = load_library()
        data = bytes(data)
        handle = ctypes.c_void_p()
        status = lib.ipe_engine_open_bytes(data, len(data), ctypes.byref(handle))
        if status != _OK:
            _raise(lib, status)
        return cls(handle.value, lib)

    def _live(self):
        if not self._handle:
            raise ValueError("the bundle is closed")
        return self._handle

    def decide(self, request):
        """Decides one request (a ``dict``, or JSON text) and returns the decision as a
        ``dict``: ``decision`` (``"allow"``/``"deny"``), ``matched``, ``violations``
        (``policy``, ``intent``, ``reason``) and ``errors`` (``policy``, ``error``), exactly
        as ``ipe eval`` prints it. A missing or wrong-typed attribute is part of the decision
        (in ``errors``); a malformed request raises ``RequestError``."""
        return json.loads(self.decide_json(request))

    def decide_json(self, request):
        """As ``decide``, returning the decision JSON text unparsed."""
        handle = self._live()
        text = request if isinstance(request, str) else json.dumps(request)
        data = text.encode("utf-8")
        buf = getattr(self._buf, "value", None)
        if buf is None:
            buf = self._buf.value = ctypes.create_string_buffer(4096)
        needed = ctypes.c_size_t(0)
        decision = _Decision()
        args = (handle, data, len(data), ctypes.byref(decision))
        status = self._lib.ipe_decide_json(*args, buf, len(buf), ctypes.byref(needed))
        if status == _BUFFER_TOO_SMALL:
            buf = self._buf.value = ctypes.create_string_buffer(needed.value)
            status = self._lib.ipe_decide_json(*args, buf, len(buf), ctypes.byref(needed))
        if status != _OK:
            _raise(self._lib, status)
        return buf.value.decode("utf-8")

    def swap(self, data):
        """Verifies new bundle bytes and publishes them; returns the new version number.
        On failure (``BundleError``) the live version is unchanged."""
        data = bytes(data)
        version = ctypes.c_uint64(0)
        status = self._lib.ipe_engine_swap_bytes(
            self._live(), data, len(data), ctypes.byref(version)
        )
        if status != _OK:
            _raise(self._lib, status)
        return version.value

    def reload(self):
        """Reads the bundle file again and publishes it; returns the new version number."""
        version = ctypes.c_uint64(0)
        status = self._lib.ipe_engine_reload(self._live(), ctypes.byref(version))
        if status != _OK:
            _raise(self._lib, status)
        return version.value

    def _info(self):
        version = ctypes.c_uint64(0)
        policies = ctypes.c_size_t(0)
        status = self._lib.ipe_engine_info(
            self._live(), ctypes.byref(version), ctypes.byref(policies)
        )
        if status != _OK:
            _raise(self._lib, status)
        return version.value, policies.value

    @property
    def version(self):
        """The live version number (1 when opened, +1 per swap or reload)."""
        return self._info()[0]

    @property
    def policy_count(self):
        """The number of policies in the live version."""
        return self._info()[1]

    def close(self):
        """Frees the engine; later calls raise ``ValueError``. Other threads must have
        finished deciding."""
        if self._handle:
            self._lib.ipe_engine_free(self._handle)
            self._handle = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing left to report to
            pass
