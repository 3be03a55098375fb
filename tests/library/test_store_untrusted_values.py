"""Odd names and oversize values: imported without a traceback, stored as given, printed escaped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time

from app.cli import main
from tests.library.store_helpers import ROOT


def test_a_file_name_that_is_not_utf8_with_control_characters_is_stored_as_given(lib, checkpoints, tmp_path, capsys):
    raw = b"\xff\x1b[31mred\x07.pt"
    path = tmp_path / os.fsdecode(raw)
    shutil.copyfile(checkpoints[0] / "detect_yolo26n.pt", path)
    r = lib.import_checkpoint(path)
    assert r.state == "added", r.message
    m = lib.model(r.model.id)
    assert os.fsencode(m.original_filename) == raw and os.fsencode(m.source_path) == os.fsencode(path)
    lib.close()

    other = tmp_path / os.fsdecode(b"\xfe\x1b]0;title\x07.pt")
    shutil.copyfile(checkpoints[0] / "classify_yolo11n.pt", other)
    assert main(["import", str(other)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\xfe\\x1b]0;title\\x07.pt" in out, out
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\\xff\\x1b[31mred\\x07" in out, out


def test_a_fifo_named_pt_is_refused_at_once(lib, tmp_path):
    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    results = []
    t = threading.Thread(target=lambda: results.append(lib.import_checkpoint(fifo)), daemon=True)
    start = time.monotonic()
    t.start()
    t.join(10)
    if t.is_alive():  # unblock the reader so the test run can end
        with open(fifo, "wb"):
            pass
        raise AssertionError("importing a FIFO blocked")
    assert time.monotonic() - start < 2
    assert results[0].state == "rejected" and "FIFO" in results[0].message, results[0].message
    assert list(lib.models_dir.iterdir()) == []


MAKE_OVERSIZE = r"""
import sys, torch
ckpt = torch.load(sys.argv[1], weights_only=False)
if sys.argv[3] == "epoch":
    ckpt["epoch"] = 2 ** 70  # an INTEGER column
else:
    ckpt["train_args"]["seed"] = 10 ** 5000  # past Python's 4,300-digit limit for str()
ckpt["train_args"]["imgsz"] = 2 ** 64
torch.save(ckpt, sys.argv[2])
"""


def _oversize(checkpoints, out, where):
    subprocess.run([sys.executable, "-c", MAKE_OVERSIZE, str(checkpoints[0] / "detect_yolo26n.pt"), str(out), where],
                   check=True, cwd=ROOT, timeout=120, capture_output=True)
    return out


def test_integers_beyond_sqlite_or_python_limits_never_crash_the_store(lib, checkpoints, tmp_path):
    # In JSON fields (training arguments) an oversize int is kept, as text.
    r = lib.import_checkpoint(_oversize(checkpoints, tmp_path / "args.pt", "args"))
    if r.state == "added":
        m = lib.model(r.model.id)
        assert m.train_args["seed"].startswith("0x") and m.train_args["imgsz"] == str(2**64)
    else:  # the reader itself refused the value: a verdict, and nothing written
        assert r.state == "rejected" and r.message and list(lib.models_dir.iterdir()) == []
    # In an INTEGER column: refused with a verdict and nothing written, or (the reader clamped it) stored in range.
    before = sorted(p.name for p in lib.models_dir.iterdir())
    r = lib.import_checkpoint(_oversize(checkpoints, tmp_path / "epoch.pt", "epoch"))
    if r.state == "rejected":
        assert r.message and sorted(p.name for p in lib.models_dir.iterdir()) == before
    else:
        epoch = lib.model(r.model.id).epoch
        assert r.state == "added" and (epoch is None or -(2**63) <= epoch < 2**63), r
