"""Bounds: only regular files are opened, work and memory are capped on what a pickle expands to, verdicts never
tracebacks (oversize integers, control characters)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from app.library.checkpoint import CheckpointError, inspect_checkpoint, printable
from tests.library.hostile import torch_zip
from tests.library.hostile_build import ROOT, body, checkpoint_pickle, inert_model, model_cfg

EXPANSION_LIMIT_S = 2.0
EXPANSION_LIMIT_MB = 300


def _inspect_with_timeout(path, seconds: float = 5.0) -> CheckpointError | None:
    outcome: list = []

    def run() -> None:
        try:
            inspect_checkpoint(path)
            outcome.append(None)
        except CheckpointError as e:
            outcome.append(e)

    t = threading.Thread(target=run, daemon=True)  # a FIFO opened for reading blocks until a writer comes
    t.start()
    t.join(seconds)
    assert outcome, f"inspecting {path} did not finish within {seconds} s"
    return outcome[0]


def test_fifo_is_refused_at_once_without_hanging(tmp_path):
    fifo = tmp_path / "model.pt"
    os.mkfifo(fifo)
    e = _inspect_with_timeout(fifo)
    assert e is not None and e.code == "not_checkpoint" and "named pipe" in e.message


@pytest.mark.parametrize("kind", ["char_device", "folder", "socket"])
def test_non_regular_files_are_refused_before_any_read(tmp_path, kind):
    if kind == "char_device":
        path = "/dev/zero"  # reading it would never end
    elif kind == "folder":
        path = tmp_path / "folder.pt"
        path.mkdir()
    else:
        path = tmp_path / "s.pt"
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
    e = _inspect_with_timeout(path)
    assert e is not None and e.code == "not_checkpoint" and "not a regular file" in e.message


def _expansions() -> dict[str, bytes]:
    n = 200_000  # under the opcode cap: the expansion budget is what refuses it
    self_list = b"]q\x00(" + b"h\x00" * n + b"e"  # one list holding itself 200 000 times
    return {
        "memo_index_4g": b"\x80\x02Nr\xff\xff\xff\xff.",
        "self_referencing_list": _ckpt_with_raw("train_args", self_list),
        # 30 levels, each a list of 10 references to the level below: 10**30 leaves from ~700 bytes
        "multiplying_lists": _ckpt_with_raw("train_args", _multiplying_lists(30, 10)),
        "million_sets": b"\x80\x02(" + b"\x8f" * 2_000_000 + b"l.",
        "repeated_big_string": _ckpt_with_raw("names", b"X" + (1 << 20).to_bytes(4, "little") + b"n" * (1 << 20)
                                              + b"q\x00(" + b"h\x00" * 1_400_000 + b"l"),
        "long4_int": _ckpt_with_raw("epoch", b"\x8b" + (3_000_000).to_bytes(4, "little") + b"\x01" * 3_000_000),
    }


def _multiplying_lists(levels: int, fanout: int) -> bytes:
    ops = b"X\x01\x00\x00\x00xq\x000"  # memo 0: 'x' (popped: each level only lives in the memo)
    for level in range(1, levels + 1):
        ops += b"(" + (b"h" + bytes([level - 1])) * fanout + b"lq" + bytes([level]) + b"0"
    return ops + b"h" + bytes([levels])


def _ckpt_with_raw(key: str, value_ops: bytes) -> bytes:
    """A benign-looking checkpoint whose ``key`` holds the given raw opcodes."""
    return b"\x80\x02}" + body("model") + inert_model(yaml=model_cfg()) + b"s" + body(key) + value_ops + b"s."


_MEASURE = r"""
import json, re, sys, time
from pathlib import Path
from app.library.checkpoint import CheckpointError, inspect_checkpoint
t = time.monotonic()
try:
    inspect_checkpoint(sys.argv[1])
    code = "ok"
except CheckpointError as e:
    code = e.code
# VmHWM, not ru_maxrss: Linux carries the parent's peak across exec into ru_maxrss (a pytest that loaded torch)
hwm = int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))
print(json.dumps({"code": code, "s": time.monotonic() - t, "mb": hwm / 1024}))
"""


@pytest.mark.parametrize("kind", sorted(_expansions()))
def test_expanding_pickle_is_decided_fast_in_bounded_memory(tmp_path, kind):
    path = torch_zip(tmp_path / f"{kind}.pt", _expansions()[kind])
    assert path.stat().st_size < 5_000_000
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["code"] == "too_large", got
    assert got["s"] < EXPANSION_LIMIT_S and got["mb"] < EXPANSION_LIMIT_MB, got


def _big_int_checkpoint(tmp_path):
    huge = 2**2000  # 603 digits: fits one LONG1 opcode, far beyond SQLite's int64
    data = checkpoint_pickle(
        inert_model(yaml=model_cfg(nc=2**80)), epoch=huge,
        train_args={"task": "detect", "imgsz": huge, "epochs": -huge, "batch": 16, "data": "x.yaml"},
        train_metrics={"metrics/mAP50-95(B)": huge, "metrics/precision(B)": 0.5}, best_fitness=huge,
    )
    return torch_zip(tmp_path / "huge.pt", data)


def test_integers_beyond_int64_are_dropped_with_a_warning(tmp_path):
    info = inspect_checkpoint(_big_int_checkpoint(tmp_path))
    assert info.epoch is None and info.imgsz is None and info.best_fitness is None
    assert info.train_args["epochs"] is None and info.train_args["batch"] == 16
    assert info.metrics == {"metrics/precision(B)": 0.5}
    assert any("beyond the 64-bit range" in w for w in info.warnings)
    json.dumps(info.to_json())  # every value is storable and printable


def test_library_import_of_oversize_integers_stores_a_row(tmp_path, lib):
    result = lib.import_checkpoint(_big_int_checkpoint(tmp_path))
    assert result.state in ("added", "rejected"), result
    if result.state == "added":
        assert result.model is not None


def test_integer_beyond_the_digit_limit_is_a_verdict(tmp_path):
    digits = b"9" * 5000  # int() of this raises ValueError under Python's int-str digit limit
    path = torch_zip(tmp_path / "digits.pt", _ckpt_with_raw("epoch", b"I" + digits + b"\n"))
    t = time.monotonic()
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(path)
    assert e.value.code == "too_large" and time.monotonic() - t < 2.0


def test_printable_escapes_control_characters_and_keeps_text():
    name = "car\x1b[2J\x1b]0;owned\x07\u009b31m\x7f\udcff"
    shown = printable(name)
    assert shown == "car\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\x7f\\xff"
    assert printable("person · Straße 🚗") == "person · Straße 🚗"
    assert all(ord(c) >= 0x20 and not 0x7F <= ord(c) < 0xA0 for c in shown)


def test_class_names_with_escapes_are_kept_as_given(tmp_path):
    names = {0: "ok", 1: "bad\x1b[31mred"}
    path = torch_zip(tmp_path / "esc.pt", checkpoint_pickle(inert_model(yaml=model_cfg(), names=names)))
    info = inspect_checkpoint(path)
    assert info.names == ["ok", "bad\x1b[31mred"]
    assert [printable(n) for n in info.names] == ["ok", "bad\\x1b[31mred"]
