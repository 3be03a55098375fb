"""What the restricted unpickler builds instead of running anything: tensor and storage records, inert objects
and references, recorded calls, and the rule on classes constructed with arguments."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any


class PickleRefused(Exception):
    """The pickle was refused; ``code`` says why (``executable_code``, ``too_large``, ``malformed``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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
    _yd_maybe_function = False  # a lower-case name: a class (v10Detect) or a function; calling it is refused

    def __new__(cls, *args: Any, **kwargs: Any) -> "InertObject":
        if args or kwargs:
            _check_construction(cls, args, kwargs)
        obj = object.__new__(cls)
        object.__setattr__(obj, "_yd_args", args)
        object.__setattr__(obj, "_yd_state", None)
        object.__setattr__(obj, "_yd_items", None)
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self._yd_maybe_function:  # only a call (REDUCE, INST, OBJ) runs __init__; torch's NEWOBJ does not
            raise PickleRefused("executable_code", f"contains executable code, refused: it calls {self.qualname()}()")
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
# Value classes built from scalars; any other ``Class(scalars)`` may be a method reached by a dotted name
# (``pathlib.Path.touch('/x')`` creates a file under a plain loader) and is refused.
_VALUE_CLASSES = {"decimal.Decimal", "uuid.UUID", "fractions.Fraction"}
# Top-level packages whose classes build models or run code in ``__init__``: never constructed with arguments.
CODE_NAMESPACES = ("ultralytics", "torch", "torchvision", "timm", "models", "utils", "yolo", "__main__", "clip")
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
    if qual in _VALUE_CLASSES and scalar_args:
        return  # decimal.Decimal('1.5'): a plain value
    raise PickleRefused(
        "executable_code", f"contains executable code, refused: it constructs {qual} with arguments inside the pickle"
    )


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
