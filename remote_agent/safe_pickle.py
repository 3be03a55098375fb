"""A restricted unpickler that builds plain data and never runs code from the pickle.

Every global a pickle names is looked up here, not imported: plain data types
(``dict``, ``OrderedDict``, ``set``…) are built for real; tensor and parameter
rebuild functions become :class:`TensorRef` records holding dtype and shape;
classes become inert :class:`InertObject` subclasses that only store their state;
any other callable becomes an :class:`InertGlobal` that refuses to be called. A global
from a module that exists to run code (``os``, ``subprocess``, ``builtins.exec``,
``importlib``…) refuses the whole pickle on sight.

The C unpickler does the parsing (fast); time and object counts are checked in every
callback, and the pickle's size is capped before reading, so memory and time are
bounded.
"""

from __future__ import annotations

import collections
import io
import pickle
import time
from dataclasses import dataclass, field
from typing import Any

from remote_agent.pickle_bounds import PickleBoundsError, check_pickle_bounds
from remote_agent.pickle_records import (  # noqa: F401 (re-exported: the reader's records are used through here)
    CODE_NAMESPACES, STORAGE_DTYPES, Call, InertGlobal, InertObject, PickleRefused, StorageRef, TensorRef,
    decode_scalar,
)

MAX_PICKLE_BYTES = 4 * 1024 * 1024  # measured: RT-DETR-x 0.33 MB, YOLO26x-seg 0.30 MB; a last.pt ~1.5x
MAX_CALLBACKS = 2_000_000
MAX_SECONDS = 5.0


# Modules whose globals exist to run code, touch the system or load more pickles.
_DANGEROUS_MODULES = (
    "os", "posix", "nt", "subprocess", "sys", "importlib", "runpy", "shutil", "socket", "pickle", "_pickle",
    "marshal", "ctypes", "_ctypes", "code", "codeop", "pty", "commands", "webbrowser", "pdb", "bdb", "timeit",
    "multiprocessing", "threading", "_thread", "asyncio", "http", "urllib", "requests", "io", "_io", "tempfile",
    "glob", "platform", "inspect", "signal", "functools", "operator", "_operator", "types", "ast", "zipimport",
    "pkgutil", "site", "distutils", "setuptools", "pip", "ssl", "ftplib", "smtplib", "telnetlib", "xmlrpc",
    "sqlite3", "dill", "cloudpickle", "joblib", "yaml", "shelve", "dbm", "posixpath", "ntpath", "fcntl",
    "resource", "gc", "weakref", "atexit", "traceback", "logging", "warnings", "contextlib", "select",
    "selectors", "mmap", "torch.hub", "torch.jit", "torch.ops", "torch._C", "torch.classes", "torch.package",
    "torch.utils.cpp_extension", "torch._dynamo", "torch._inductor", "torch.compiler", "torch.library",
    "torch.distributed", "torch.multiprocessing", "numpy.lib", "numpy.testing", "numpy.f2py", "numpy.ctypeslib",
    "numpy.distutils", "numpy.load", "ultralytics.utils.checks", "ultralytics.utils.downloads",
    "ultralytics.hub", "ultralytics.engine", "ultralytics.cfg",
)
_DANGEROUS_GLOBALS = {
    "torch.load", "torch.save", "torch.serialization.load", "torch.storage._load_from_bytes",
    "numpy.load", "numpy.fromfile", "numpy.memmap", "builtins.setattr", "builtins.delattr",
    "builtins.eval", "builtins.exec", "builtins.compile", "builtins.__import__", "builtins.open",
    "builtins.input", "builtins.breakpoint", "builtins.globals", "builtins.locals", "builtins.vars",
    "builtins.apply", "builtins.execfile", "builtins.reload", "builtins.memoryview", "builtins.type",
    "builtins.classmethod", "builtins.staticmethod", "builtins.property", "builtins.super", "builtins.help",
    "builtins.exit", "builtins.quit", "builtins.print", "copyreg._reconstructor_unsafe",
}
# Modules whose classes appear in model checkpoints; their classes are built as inert objects.
_MODEL_NAMESPACES = (
    "ultralytics", "torch", "torchvision", "numpy", "collections", "pathlib", "datetime", "argparse", "enum",
    "models", "utils", "__main__", "timm", "yolo", "_codecs", "copyreg", "builtins", "types", "decimal", "uuid",
)
_NOT_CLASSES = ("builtins", "copyreg", "_codecs")  # their capitalised names are types or errors, never models
_PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg", "_codecs": "_codecs"}
# Only types whose construction cannot be made to allocate without bound from a small pickle.
_DATA_TYPES: dict[str, Any] = {
    "builtins.set": set, "builtins.frozenset": frozenset, "builtins.slice": slice,
    "builtins.complex": complex, "collections.OrderedDict": collections.OrderedDict,
}

@dataclass
class ReadStats:
    """What the unpickler saw: every global named, and the storages referenced."""

    globals: set[str] = field(default_factory=set)
    storages: dict[str, StorageRef] = field(default_factory=dict)
    callbacks: int = 0


def _is_dangerous(qualname: str, module: str) -> bool:
    if qualname in _DANGEROUS_GLOBALS:
        return True
    return any(module == m or module.startswith(m + ".") for m in _DANGEROUS_MODULES)


def _rebuild_tensor(storage: Any, offset: Any, size: Any, *rest: Any) -> TensorRef:
    shape = size if type(size) is tuple else tuple(size) if isinstance(size, list) else ()
    return TensorRef(storage if type(storage) is StorageRef else None, offset if type(offset) is int else 0, shape)


def _rebuild_parameter(data: Any, *rest: Any) -> Any:
    if isinstance(data, TensorRef):
        return TensorRef(data.storage, data.offset, data.shape, parameter=True)
    return data


def _rebuild_from_type(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    if callable(func) and isinstance(args, tuple):
        return func(*args)
    return None


def _codecs_encode(obj: Any, encoding: str = "utf-8", *rest: Any) -> bytes:
    if isinstance(obj, str) and encoding in ("latin1", "latin-1", "utf-8", "utf8", "ascii"):
        return obj.encode(encoding)
    raise PickleRefused("malformed", "malformed pickle: unexpected _codecs.encode arguments")


def _reconstructor(cls: Any, base: Any, state: Any = None) -> Any:
    # a plain loader runs ``base.__init__(obj, state)``: DetectionModel as base builds the model from ``state``
    if not (isinstance(base, InertGlobal) and base.qualname == "builtins.object") and base not in _PLAIN_BASES:
        name = base.qualname() if isinstance(base, type) and issubclass(base, InertObject) else _describe(base)
        raise PickleRefused("executable_code", f"contains executable code, refused: copyreg._reconstructor would "
                                               f"run {name}.__init__ on data from the pickle")
    if isinstance(cls, type) and issubclass(cls, InertObject):
        return cls.__new__(cls)
    if cls in (collections.OrderedDict, dict, list, set):
        return cls()
    return Call("copyreg._reconstructor", (cls, base, state))


_PLAIN_BASES = (dict, list, set, frozenset, collections.OrderedDict)


def _describe(obj: Any) -> str:
    if isinstance(obj, InertGlobal):
        return obj.qualname
    if isinstance(obj, type) and issubclass(obj, InertObject):
        return obj.qualname()
    return type(obj).__name__


def _inert_getattr(obj: Any, name: Any, *rest: Any) -> Any:
    """``builtins.getattr`` as ultralytics' safe loader allows it: ``Detect.forward`` (8.0.x heads keep it) or
    ``InterpolationMode.BILINEAR``; the result is an inert reference that refuses to be called."""
    if not rest and type(name) is str and name.isidentifier() and not name.startswith("__"):
        if isinstance(obj, type) and issubclass(obj, InertObject) and obj._yd_module.split(".")[0] in CODE_NAMESPACES:
            return InertGlobal(obj.qualname(), name)
        if isinstance(obj, InertObject) and name in ("forward", "forward_fuse"):
            return InertGlobal(type(obj).qualname(), name)
    raise PickleRefused("executable_code", f"contains executable code, refused: it calls builtins.getattr on "
                                           f"{_describe(obj)} for {str(name)[:60]!r}")


class _SafeFunction:
    """One of our stand-ins for a function the pickle may call; a BUILD on it (state pollution) is refused."""

    __slots__ = ("func",)

    def __init__(self, func: Any) -> None:
        self.func = func

    def __call__(self, *args: Any) -> Any:
        return self.func(*args)

    def __setstate__(self, state: Any) -> None:
        raise PickleRefused("malformed", "malformed pickle: it sets state on a function")


def _recorder(qualname: str) -> Any:
    def record(*args: Any) -> Call:
        return Call(qualname, args)

    return record


_SAFE_FUNCTIONS: dict[str, Any] = {name: _SafeFunction(f) for name, f in {
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type,
    "_codecs.encode": _codecs_encode,
    "copyreg._reconstructor": _reconstructor,
    "builtins.getattr": _inert_getattr,
}.items()}
_RECORDED_CALLS = {
    "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar", "numpy.dtype", "numpy.ndarray", "torch.device", "torch.Size",
    "torch.serialization._get_layout", "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_wrapper_subclass", "torch._utils._rebuild_tensor_v3", "datetime.datetime",
    "datetime.date", "datetime.time", "datetime.timedelta", "datetime.timezone", "pathlib.PosixPath",
    "pathlib.WindowsPath", "pathlib.Path", "pathlib.PurePosixPath", "pathlib.PureWindowsPath",
    "pathlib._local.PosixPath", "pathlib._local.WindowsPath", "pathlib._local.Path",  # pickled by Python 3.13
    "pathlib._local.PurePosixPath", "pathlib._local.PureWindowsPath",
}


_UNKNOWN = ("unknown", "", 1)


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, stats: ReadStats, deadline: float) -> None:
        super().__init__(io.BytesIO(data))
        self._stats = stats
        self._deadline = deadline
        self._classes: dict[str, type] = {}
        self._storages = stats.storages

    def _tick(self) -> None:
        stats = self._stats
        stats.callbacks += 1
        if stats.callbacks & 1023 == 0 and (stats.callbacks > MAX_CALLBACKS or time.monotonic() > self._deadline):
            raise PickleRefused("too_large", "refused: the pickle is too large or too slow to read safely")

    def find_class(self, module: str, name: str) -> Any:
        self._tick()
        module = _PY2_MODULES.get(module, module)
        qual = f"{module}.{name}"
        self._stats.globals.add(qual)
        if _is_dangerous(qual, module) or _is_dangerous(qual, qual):  # 'torch' + 'jit.load' is torch.jit.load
            raise PickleRefused("executable_code", f"contains executable code, refused: it references {qual}")
        if "." in name:  # protocol 4 resolves 'Path.touch' as an attribute path: getattr's rule for each step
            head, *path = name.split(".")
            obj = self.find_class(module, head)
            try:
                for part in path:
                    obj = _inert_getattr(obj, part)
            except PickleRefused as e:
                raise PickleRefused("executable_code", f"contains executable code, refused: it reaches {qual} "
                                                       "through an attribute path") from e
            return obj
        if qual in _SAFE_FUNCTIONS:
            return _SAFE_FUNCTIONS[qual]
        if qual in _DATA_TYPES:
            return _DATA_TYPES[qual]
        if qual in _RECORDED_CALLS:
            return _recorder(qual)
        if module == "torch" and name.endswith("Storage"):
            return ("storage_type", name)
        if module == "torch" and name[:1].islower():
            return f"torch.{name}"  # dtypes and layouts (torch.float16, torch.strided) as their names
        top = module.split(".")[0]
        # v10Detect, v8DetectionLoss, _NormalizeCoords: classes need not be capitalised; a function named here and
        # called (REDUCE) is refused by the class's __init__, while NEWOBJ (how torch pickles modules) stays inert
        maybe_function = not name[:1].isupper() and top in CODE_NAMESPACES
        if (name[:1].isupper() or maybe_function) and top in _MODEL_NAMESPACES and top not in _NOT_CLASSES:
            cls = self._classes.get(qual)
            if cls is None:
                cls = type(name, (InertObject,), {"_yd_module": module, "_yd_name": name,
                                                  "_yd_maybe_function": maybe_function})
                self._classes[qual] = cls
            return cls
        return InertGlobal(module, name)

    def persistent_load(self, pid: Any) -> Any:
        self._tick()
        if type(pid) is tuple and len(pid) >= 5 and pid[0] == "storage" and type(pid[2]) is str and len(pid[2]) < 64:
            key = pid[2]  # torch's keys are short strings; str() of a hostile object could cost without bound
            ref = self._storages.get(key)
            if ref is None:
                stype, numel = pid[1], pid[4]
                dtype = STORAGE_DTYPES.get(stype[1], _UNKNOWN)[0] if type(stype) is tuple else "unknown"
                ref = self._storages[key] = StorageRef(key, dtype, numel if type(numel) is int else 0)
            return ref
        raise PickleRefused("malformed", "malformed pickle: unknown persistent id")


def restricted_load(data: bytes, max_seconds: float = MAX_SECONDS) -> tuple[Any, ReadStats]:
    """Unpickle ``data`` into plain and inert objects; raise :class:`PickleRefused` on hostile input."""
    if len(data) > MAX_PICKLE_BYTES:
        raise PickleRefused(
            "too_large", f"refused: its pickle is {len(data) / 1e6:.0f} MB, a checkpoint's is far under {MAX_PICKLE_BYTES // 2**20} MB"
        )
    try:
        check_pickle_bounds(data)  # before the C unpickler allocates what the opcodes ask for
    except PickleBoundsError as e:
        raise PickleRefused(e.code, e.message) from e
    stats = ReadStats()
    unpickler = _RestrictedUnpickler(data, stats, time.monotonic() + max_seconds)
    try:
        obj = unpickler.load()
    except PickleRefused:
        raise
    except RecursionError as e:
        raise PickleRefused("too_large", "refused: the pickle nests too deeply to read safely") from e
    except MemoryError as e:
        raise PickleRefused("too_large", "refused: the pickle needs too much memory to read") from e
    except Exception as e:  # truncated or corrupt pickles raise many kinds of errors
        raise PickleRefused("malformed", f"corrupt pickle ({type(e).__name__}: {e})") from e
    return obj, stats
