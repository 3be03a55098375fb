"""Builders for hostile checkpoints: hand-assembled pickle opcodes, raw zip layouts, and naive loaders that prove danger.

Pickles are assembled from opcodes so that they can name ultralytics' classes without importing ultralytics here;
zips are written byte by byte so that a test controls every offset, name and size in both directories.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import subprocess
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def global_op(qualname: str) -> bytes:
    """The GLOBAL opcode naming ``module.name``."""
    module, name = qualname.rsplit(".", 1)
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def body(obj: object) -> bytes:
    """``obj`` pickled as opcodes to splice into a larger pickle (no PROTO, no STOP)."""
    return pickle.dumps(obj, protocol=2)[2:-1]


def checkpoint_pickle(model_ops: bytes, **extra: object) -> bytes:
    """A checkpoint-shaped dict: ``{"model": <model_ops>, **extra}`` with honest-looking keys."""
    fields = {"epoch": -1, "date": "2025-01-01T00:00:00", "version": "8.4.0", "train_args": {"task": "detect"}}
    fields.update(extra)
    ops = b"\x80\x02}" + body("model") + model_ops + b"s"
    for key, value in fields.items():
        ops += body(key) + body(value) + b"s"
    return ops + b"."


def touch_activation(marker: Path) -> str:
    """An ``activation`` string that creates ``marker`` when evaluated and still yields a valid activation."""
    return f"__import__('pathlib').Path({str(marker)!r}).touch() or nn.SiLU()"


def model_cfg(activation: str | None = None, **extra: object) -> dict:
    """A small but complete detection model config (as a model YAML file gives it)."""
    cfg: dict = {
        "nc": 2, "scale": "n", "scales": {"n": [0.5, 0.25, 1024]}, "yaml_file": "yolo11n.yaml",
        "backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [32, 3, 2]], [-1, 1, "SPPF", [32, 5]]],
        "head": [[-1, 1, "nn.Upsample", [None, 2, "nearest"]], [[-1, 1], 1, "Concat", [1]],
                 [[3], 1, "Detect", ["nc"]]],
    }
    if activation is not None:
        cfg["activation"] = activation
    cfg.update(extra)
    return cfg


def inert_model(cls: str = "ultralytics.nn.tasks.DetectionModel", **state: object) -> bytes:
    """A model pickled as torch does it: ``cls.__new__(cls)`` (NEWOBJ with no arguments), then BUILD with its state."""
    full = {"training": False, "_parameters": {}, "_buffers": {}, "_modules": {}, "names": {0: "a", 1: "b"}}
    full.update(state)
    return global_op(cls) + b")\x81" + body(full) + b"b"


def raw_zip(members: list[tuple[str, bytes]], central: list[dict] | None = None, prefix: bytes = b"") -> bytes:
    """A STORED zip written byte by byte; ``central`` overrides fields of each central entry (name, offset, size…).

    With ``prefix``, the zip is glued after those bytes and its offsets count from its own start (as a
    self-extracting archive's do): Python's zipfile shifts them, miniz does not.
    """
    out = bytearray(prefix)
    entries = []
    for name, data in members:
        raw = name.encode()
        crc = zlib.crc32(data)
        entries.append({"name": raw, "offset": len(out) - len(prefix), "crc": crc, "csize": len(data), "usize": len(data)})
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, len(data), len(data), len(raw), 0)
        out += raw + data
    for i, override in enumerate(central or []):
        entries[i].update(override)
    cd_start = len(out)
    for e in entries:
        out += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, e["crc"], e["csize"],
                           e["usize"], len(e["name"]), 0, 0, 0, 0, 0, e["offset"])
        out += e["name"]
    cd_size = len(out) - cd_start
    cd_offset = cd_start - len(prefix)
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), cd_size, cd_offset, 0)
    return bytes(out)


def torch_members(data_pkl: bytes, name: str = "archive") -> list[tuple[str, bytes]]:
    """The members torch writes for a pickle without tensors."""
    return [(f"{name}/data.pkl", data_pkl), (f"{name}/.format_version", b"1"), (f"{name}/byteorder", b"little"),
            (f"{name}/version", b"3\n")]


_NAIVE = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
how, items = sys.argv[1], json.loads(sys.argv[2])
out = {}
for path in items:
    try:
        if how == "torch":
            import torch
            torch.load(path, weights_only=False)
        elif how == "yolo":
            from ultralytics import YOLO
            YOLO(path)
        elif how == "build":
            import yaml
            from ultralytics.nn.tasks import DetectionModel
            DetectionModel(yaml.safe_load(open(path)), verbose=False)
        out[path] = "loaded"
    except BaseException as e:
        out[path] = f"{type(e).__name__}: {str(e)[:200]}"
print(json.dumps(out))
"""


def naive_load(how: str, paths: list[Path], home: Path) -> dict[str, str]:
    """Open each file as a careless program would (``torch.load(weights_only=False)``, ``YOLO(path)`` or building a
    ``DetectionModel`` from a YAML), in a fresh process; return what happened to each."""
    env = dict(os.environ, YOLO_OFFLINE="1", YOLO_CONFIG_DIR=str(home), ULTRALYTICS_SAFE_LOAD="0", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", _NAIVE, how, json.dumps([str(p) for p in paths])],
                          capture_output=True, text=True, timeout=300, env=env, cwd=home)
    lines = proc.stdout.strip().splitlines()
    assert lines, proc.stderr[-2000:]
    return json.loads(lines[-1])
