"""Values that come from outside (a checkpoint's fields, a file's name) made safe to store and to print.

SQLite's INTEGER is 64-bit and its TEXT must be UTF-8; Python refuses to print an int of
more than 4,300 digits and a terminal obeys escape sequences. A checkpoint or a file name
can hold any of these, and none of them may end an import in a traceback.
"""

from __future__ import annotations

import os
import unicodedata
from typing import Any

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def fits_int64(value: Any) -> bool:
    """Whether ``value`` is None or an int SQLite's INTEGER can hold."""
    return value is None or not isinstance(value, int) or INT64_MIN <= value <= INT64_MAX


def describe_int(value: int) -> str:
    """An int as text, even one beyond Python's digit limit for ``str()`` (then in hex)."""
    try:
        return str(value)
    except ValueError:
        return hex(value)


def json_safe(obj: Any, depth: int = 0) -> Any:
    """``obj`` with every int outside int64 turned into its text, so that JSON and SQLite both keep it."""
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, int):
        return obj if fits_int64(obj) else describe_int(obj)
    if depth > 100:  # deeper than any real checkpoint field: keep a marker, not a recursion error
        return "…"
    if isinstance(obj, dict):
        return {(describe_int(k) if isinstance(k, int) and not fits_int64(k) else k): json_safe(v, depth + 1)
                for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v, depth + 1) for v in obj]
    return obj


def utf8_text(text: str) -> str:
    """``text`` with undecodable bytes of a file name (surrogate escapes) written as ``\\xff``: valid UTF-8."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters (escape sequences included) and undecodable bytes escaped."""
    text = utf8_text(str(text))
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else _escape(c) for c in text)


def _escape(c: str) -> str:
    code = ord(c)
    if unicodedata.category(c) == "Zs":
        return c
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class FsText(TypeDecorator[str]):
    """A path or file name stored exactly as given: UTF-8 text when it is, else its raw bytes (read back as ``str``).

    A name that is not valid UTF-8 comes to Python as surrogate escapes (PEP 383), which
    SQLite's TEXT cannot take; its bytes go in a BLOB instead and ``os.fsdecode`` restores it.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> Any:
        if value is None:
            return None
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return os.fsencode(value)

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        if isinstance(value, bytes):
            return os.fsdecode(value)
        return value
