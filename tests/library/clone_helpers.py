"""Shared by the clone tests: a library model with verified (and unverified) exports placed by the real store."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from remote_agent.export import path_digest


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def add_exports(lib: Any, model_id: str, work: Path) -> dict[str, Any]:
    """A verified file export (onnx), a verified folder export (openvino) and an unverified one (torchscript).

    The artifacts go in through :class:`ExportStore` as a finished export job's would; their bytes are
    not a real ONNX or OpenVINO model (the clone never opens them, it links or copies and hashes them).
    """
    from app.exporters.store import ExportStore

    store = ExportStore(lib)
    work.mkdir(parents=True, exist_ok=True)
    onnx = work / "best.onnx"
    onnx.write_bytes(b"onnx-bytes " * 500)
    vino = work / "best_openvino_model"
    (vino / "sub").mkdir(parents=True)
    (vino / "model.xml").write_text("<net/>")
    (vino / "model.bin").write_bytes(b"\x01\x02" * 300)
    (vino / "sub" / "metadata.yaml").write_text("task: detect\n")
    ts = work / "best.torchscript"
    ts.write_bytes(b"ts" * 100)
    rows = {}
    for fmt, artifact, verified in (("onnx", onnx, True), ("openvino", vino, True), ("torchscript", ts, False)):
        rec = store.create(model_id, fmt, {"format": fmt})
        placed = store.place(model_id, fmt, artifact)
        size, digest = path_digest(placed)
        rows[fmt] = store.set(rec.id, status="Completed", path=str(placed), size=size, sha256=digest,
                              verified=verified, verification="ok" if verified else None)
    return rows


def add_validations(lib: Any, model_id: str, work: Path, count: int = 2) -> list[Any]:
    """``count`` validations through the real store (oldest first), each a capture of the agreed shape (version 1,
    the model's classes, its (nc+1)² matrix) with its own figures; no val job runs (the clone only links or copies
    and hashes the file)."""
    import json

    from app.validation.store import CAPTURE_VERSION, add_validation

    names = lib.model(model_id).class_names
    n = len(names) + 1
    work.mkdir(parents=True, exist_ok=True)
    added = []
    for i in range(count):
        overall = {"precision": 0.5 + i / 10, "recall": 0.4, "map50": 0.3 + i / 10, "map50_95": 0.2, "fitness": 0.21}
        capture = {"version": CAPTURE_VERSION, "task": "detect", "names": names, "data": f"data-{i}.yaml",
                   "split": "val", "args": {"conf": 0.001}, "confusion_matrix": [[i] * n for _ in range(n)],
                   "curves": {}, "per_class": {}, "overall": overall, "speed": {"inference": 1.0 + i}, "images": []}
        path = work / f"capture-{i}.json"
        path.write_text(json.dumps(capture))
        added.append(add_validation(lib, model_id, path, job_id=f"job{i}", data=capture["data"], split="val",
                                    args=capture["args"], summary={"task": "detect", "overall": overall,
                                                                   "speed": capture["speed"], "images": 0}))
    return added
