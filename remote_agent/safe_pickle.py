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
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from remote_agent.pickle_bounds import PickleBoundsError, check_pickle_bounds

MAX_PICKLE_BYTES = 4 * 1024 * 1024  # measured: RT-DETR-x 0.33 MB, YOLO26x-seg 0.30 MB; a last.pt ~1.5x
MAX_CALLBACKS = 2_000_000
MAX_SECONDS = 5.0


class PickleRefused(Exception):
    """The pickle was refused; ``code`` says why (``executable_code``, ``too_large``, ``malformed``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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
    "numpy.load", "numpy.fromfile", "numpy.memmap", "builtins.getattr", "builtins.setattr", "builtins.delattr",
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
_PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg", "_codecs": "_codecs"}
# Only types whose construction cannot be made to allocate without bound from a small pickle.
_DATA_TYPES: dict[str, Any] = {
    "builtins.set": set, "builtins.frozenset": frozenset, "builtins.slice": slice,
    "builtins.complex": complex, "collections.OrderedDict": collections.OrderedDict,
}

# torch storage class names → (dtype name, struct code, item size)
STORAGE_DTYPES: dict[str, tuple[str, str, int]] = {
    "FloatStorage": ("float32", "f", 4), "HalfStorage": ("float16", "e", 2), "DoubleStorage": ("float64", "d", 8),
    "BFloat16Storage": ("bfloat16", "", 2), "LongStorage": ("int64", "q", 8), "IntStorage": ("int32", "i", 4),
    "ShortStorage": ("int16", "h", 2), "CharStorage": ("int8", "b", 1), "ByteStorage": ("uint8", "B", 1),
    "BoolStorage": ("bool", "?", 1), "UntypedStorage": ("uint8", "B", 1),
}


@dataclass(slots=True)
class StorageRef:
    """A tensor storage record of the checkpoint (``data/<key>`` in the zip)."""

    key: str
    dtype: str
    numel: int


@dataclass(slots=True)
class TensorRef:
    """A tensor that was not built: its storage, offset, shape and whether it is a parameter."""

    storage: StorageRef | None
    offset: int
    shape: tuple[int, ...]
    parameter: bool = False

    @property
    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s if type(s) is int else 0
            if not 0 <= n < 2**64:  # a hostile shape: stop before the product grows without bound
                return n if n >= 0 else 0
        return n

    @property
    def dtype(self) -> str:
        return self.storage.dtype if self.storage else "unknown"


@dataclass
class InertGlobal:
    """A function named by the pickle; calling it is refused, referencing it is harmless."""

    module: str
    name: str

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise PickleRefused("executable_code", f"contains executable code, refused: it calls {self.qualname}()")


@dataclass
class Call:
    """The record of an allowed call (numpy scalar, dtype, copyreg, datetime…), never made."""

    func: str
    args: tuple[Any, ...]
    state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


class InertObject:
    """Base of the classes built for pickled objects: holds the pickled state, runs nothing."""

    _yd_module = ""
    _yd_name = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> "InertObject":
        if args or kwargs:
            _check_construction(cls, args, kwargs)
        obj = object.__new__(cls)
        object.__setattr__(obj, "_yd_args", args)
        object.__setattr__(obj, "_yd_state", None)
        object.__setattr__(obj, "_yd_items", None)
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, "_yd_args", args)

    def __setstate__(self, state: Any) -> None:
        object.__setattr__(self, "_yd_state", state)

    # OrderedDict / list subclasses pickled with SETITEMS/APPENDS land here.
    def __setitem__(self, key: Any, value: Any) -> None:
        if self._yd_items is None:
            object.__setattr__(self, "_yd_items", {})
        self._yd_items[key] = value

    def append(self, value: Any) -> None:
        self.extend([value])

    def extend(self, values: Any) -> None:
        if self._yd_items is None:
            object.__setattr__(self, "_yd_items", {})
        for v in values:
            self._yd_items[len(self._yd_items)] = v

    @classmethod
    def qualname(cls) -> str:
        return f"{cls._yd_module}.{cls._yd_name}"

    @property
    def attrs(self) -> dict[str, Any]:
        """The object's pickled ``__dict__`` (or the dict part of a ``(dict, slots)`` state)."""
        st = self._yd_state
        if isinstance(st, tuple) and len(st) == 2 and isinstance(st[0], dict | type(None)):
            st = st[0]
        return st if isinstance(st, dict) else {}

    def __repr__(self) -> str:
        return f"<inert {self.qualname()}>"


# Enums pickle as ``Class(value)``; these are the ones real checkpoints hold (classification transforms).
_ENUM_CLASSES = {"torchvision.transforms.functional.InterpolationMode", "torchvision.transforms.InterpolationMode"}
# Top-level packages whose classes build models or run code in ``__init__``: never constructed with arguments.
_CODE_NAMESPACES = ("ultralytics", "torch", "torchvision", "timm", "models", "utils", "yolo", "__main__", "clip")
_SCALARS = (int, float, str, bool, type(None))


def _check_construction(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse a class called with arguments: torch pickles modules as ``cls.__new__(cls)`` + state, never ``cls(cfg)``.

    ``DetectionModel(cfg)`` inside a pickle would run ultralytics' model builder (which evaluates config strings)
    under any loader that allows the class, ultralytics' own safe loader included.
    """
    qual = cls.qualname()  # type: ignore[attr-defined]
    scalar_args = not kwargs and all(type(a) in _SCALARS for a in args)
    if qual in _ENUM_CLASSES and scalar_args and len(args) == 1:
        return
    if qual.split(".")[0] not in _CODE_NAMESPACES and scalar_args:
        return  # decimal.Decimal('1.5'), enum members of other packages: plain values
    raise PickleRefused(
        "executable_code", f"contains executable code, refused: it constructs {qual} with arguments inside the pickle"
    )


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
    if isinstance(cls, type) and issubclass(cls, InertObject):
        return cls.__new__(cls)
    if cls in (collections.OrderedDict, dict, list, set):
        return cls()
    return Call("copyreg._reconstructor", (cls, base, state))


def _recorder(qualname: str) -> Any:
    def record(*args: Any) -> Call:
        return Call(qualname, args)

    return record


_SAFE_FUNCTIONS: dict[str, Any] = {
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type,
    "_codecs.encode": _codecs_encode,
    "copyreg._reconstructor": _reconstructor,
}
_RECORDED_CALLS = {
    "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar", "numpy.dtype", "numpy.ndarray", "torch.device", "torch.Size",
    "torch.serialization._get_layout", "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_wrapper_subclass", "torch._utils._rebuild_tensor_v3", "datetime.datetime",
    "datetime.date", "datetime.time", "datetime.timedelta", "datetime.timezone", "pathlib.PosixPath",
    "pathlib.WindowsPath", "pathlib.Path", "pathlib.PurePosixPath", "pathlib.PureWindowsPath",
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
        if _is_dangerous(qual, module):
            raise PickleRefused("executable_code", f"contains executable code, refused: it references {qual}")
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
        if name[:1].isupper() and top in _MODEL_NAMESPACES and top not in ("builtins", "copyreg", "_codecs"):
            cls = self._classes.get(qual)
            if cls is None:
                cls = type(name, (InertObject,), {"_yd_module": module, "_yd_name": name})
                self._classes[qual] = cls
            return cls
        return InertGlobal(module, name)

    def persistent_load(self, pid: Any) -> Any:
        self._tick()
        if type(pid) is tuple and len(pid) >= 5 and pid[0] == "storage":
            key = str(pid[2])
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


def decode_scalar(call: Call) -> Any:
    """Value of a pickled numpy scalar (``numpy.core.multiarray.scalar(dtype, bytes)``), decoded with struct."""
    if len(call.args) < 2 or not isinstance(call.args[1], bytes | bytearray):
        return None
    dtype = call.args[0]
    code = dtype.args[0] if isinstance(dtype, Call) and dtype.args else None
    fmt = {"f8": "d", "f4": "f", "f2": "e", "i8": "q", "i4": "i", "i2": "h", "i1": "b", "u1": "B", "u8": "Q",
           "u4": "I", "b1": "?"}.get(str(code))
    raw = bytes(call.args[1])
    if fmt and struct.calcsize(fmt) == len(raw):
        return struct.unpack("<" + fmt, raw)[0]
    return None
