"""Bounds on what a pickle can make the unpickler allocate, checked on its opcodes before anything is built.

The C unpickler calls back into Python only for globals and persistent ids, so a small pickle can still ask it
for a lot: ``LONG_BINPUT 4294967295`` makes it size its memo array for 4 G entries at once (tens of GB), a
megabyte of ``EMPTY_SET`` builds a million sets, a ``LONG4`` makes a 30-million-digit integer. One pass over the
opcodes (no objects built, ~5 ms for a yolo26n pickle) refuses those before :func:`pickle.Unpickler.load` runs.
"""

from __future__ import annotations

import struct

MAX_OPCODES = 1_000_000  # measured: yolo26n 73 k, last.pt 108 k; an x-scale last.pt stays far under
MAX_MEMO_INDEX = MAX_OPCODES  # torch numbers memo slots 0, 1, 2…; a larger index only sizes the memo array
MAX_SETS = 10_000  # torch never pickles sets in a checkpoint; each costs ~200 bytes empty
MAX_TEXT_LINE = 128  # INT / LONG / FLOAT / PUT / GET lines: a 64-bit number is 20 digits
MAX_GLOBAL_LINES = 512  # "module\nname\n" of GLOBAL / INST

_U32 = struct.Struct("<I").unpack_from
_U64 = struct.Struct("<Q").unpack_from

_ONE_LINE, _TWO_LINES, _LEN1, _LEN4, _LEN8, _MEMO_PUT4, _SET, _REFUSED, _UNKNOWN = range(-1, -10, -1)


class PickleBoundsError(Exception):
    """The opcode stream asks for more than a checkpoint ever needs, or is not a pickle; ``code`` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _opcode_table() -> tuple[int, ...]:
    table = [_UNKNOWN] * 256
    for op in b"(.012NRb}el]ost)uadQ\x81\x85\x86\x87\x88\x89\x93\x94":
        table[op] = 0  # no argument
    for op in b"Khq\x80":
        table[op] = 1
    table[ord("M")] = 2
    for op in b"Jj":
        table[op] = 4
    for op in b"G\x95":
        table[op] = 8  # BINFLOAT; FRAME (its length only: the frame's opcodes follow inline)
    for op in b"UC\x8c\x8a":
        table[op] = _LEN1
    for op in b"TBX":
        table[op] = _LEN4
    for op in b"\x8d\x8e\x96":
        table[op] = _LEN8
    for op in b"ILFSVgpP":
        table[op] = _ONE_LINE
    for op in b"ci":
        table[op] = _TWO_LINES
    table[ord("r")] = _MEMO_PUT4
    for op in b"\x8f\x90\x91\x92":
        table[op] = _SET  # EMPTY_SET, ADDITEMS, FROZENSET, NEWOBJ_EX: counted
    # LONG4 (unbounded integers), EXT1/2/4 (copyreg's extension registry), out-of-band buffers: never in a checkpoint
    for op in b"\x8b\x82\x83\x84\x97\x98":
        table[op] = _REFUSED
    return tuple(table)


_OPCODES = _opcode_table()
_STOP = ord(".")
_TEXT_INDEX_OPS = (ord("p"), ord("g"))


def check_pickle_bounds(data: bytes) -> int:
    """Walk ``data``'s opcodes without building anything; return their count or raise :class:`PickleBoundsError`."""
    n = len(data)
    i = ops = sets = 0
    table = _OPCODES
    try:
        while i < n:
            op = data[i]
            kind = table[op]
            ops += 1
            if kind >= 0:
                i += kind + 1
                if op == _STOP:
                    break
                continue
            if kind == _LEN1:
                i += 2 + data[i + 1]
            elif kind == _LEN4:
                i += 5 + _U32(data, i + 1)[0]
            elif kind == _MEMO_PUT4:
                if _U32(data, i + 1)[0] > MAX_MEMO_INDEX:
                    raise PickleBoundsError("too_large", "refused: the pickle asks for a memo far larger than its content")
                i += 5
            elif kind == _ONE_LINE:
                end = data.find(b"\n", i + 1, i + 2 + MAX_TEXT_LINE)
                if end < 0:
                    raise PickleBoundsError("too_large", "refused: the pickle holds a number or text line too long to read")
                if op in _TEXT_INDEX_OPS and int(data[i + 1:end] or b"0") > MAX_MEMO_INDEX:
                    raise PickleBoundsError("too_large", "refused: the pickle asks for a memo far larger than its content")
                i = end + 1
            elif kind == _TWO_LINES:
                end = data.find(b"\n", i + 1, i + 1 + MAX_GLOBAL_LINES)
                end = data.find(b"\n", end + 1, i + 1 + MAX_GLOBAL_LINES) if end >= 0 else -1
                if end < 0:
                    raise PickleBoundsError("malformed", "corrupt pickle: a global name without its end")
                i = end + 1
            elif kind == _LEN8:
                i += 9 + _U64(data, i + 1)[0]
            elif kind == _SET:
                sets += 1
                i += 1
            elif kind == _REFUSED:
                raise PickleBoundsError(
                    "too_large" if op == 0x8B else "malformed",
                    f"refused: the pickle uses opcode 0x{op:02x}, which no checkpoint needs",
                )
            else:
                raise PickleBoundsError("malformed", f"corrupt pickle: unknown opcode 0x{op:02x} at byte {i}")
        else:
            raise PickleBoundsError("malformed", "corrupt pickle: it ends before its STOP opcode (truncated?)")
    except (IndexError, struct.error, ValueError) as e:
        raise PickleBoundsError("malformed", "corrupt pickle: it ends inside an opcode (truncated?)") from e
    if ops > MAX_OPCODES:
        raise PickleBoundsError(
            "too_large", f"refused: the pickle has {ops:,} opcodes; a checkpoint's has far under {MAX_OPCODES:,}"
        )
    if sets > MAX_SETS:
        raise PickleBoundsError("too_large", f"refused: the pickle builds {sets:,} sets; a checkpoint builds none")
    return ops
