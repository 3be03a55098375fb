"""A validation job: ultralytics' validator on a model's weights (opened through the gate), captured as numbers.

Spec: ``args`` = ``{"model": <.pt>, "data": <data.yaml | folder>, "split": "val", "conf"?, "iou"?, "imgsz"?,
"batch"?, "device"?, "matrix_conf"?}`` (``matrix_conf``: the confidence the stored matrix is counted at, 0.25), ``task``, ``trusted_sha256``. The capture (``remote_agent/val_capture.py``: matrix, curves,
per-class, speed, per-image predictions) is written to ``<run_dir>/validation.json``; the result names that file,
its sha256 and a summary. ``plots=True`` is passed because ultralytics fills the detection matrix only then; the
capturing validator draws none of the pictures.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from remote_agent.events import Emitter
from remote_agent.train import CancelFlag, file_sha256
from remote_agent.val_capture import MATRIX_CONF, build_capture, capturing_validator, refuse_foreign_classes

CAPTURE_NAME = "validation.json"
# set by the agent, not by a user's key=value: a user cannot re-point the run folder or switch plots off
FIXED = {"plots": True, "save_json": False, "save_txt": False, "visualize": False, "exist_ok": True, "verbose": False}


class _Cancelled(Exception):
    """Raised from the batch callback when SIGTERM asked the job to stop (the validator has no stop flag)."""


def write_json_atomic(path: Path, obj: dict[str, Any]) -> None:
    """Write ``obj`` as JSON to a temp file beside ``path``, fsync, then replace ``path``."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, separators=(",", ":"), allow_nan=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def summary_of(capture: dict[str, Any]) -> dict[str, Any]:
    """What lists show of a validation: task, overall metrics, speed, image count."""
    return {"task": capture["task"], "overall": capture["overall"], "speed": capture["speed"],
            "images": len(capture["images"]), "matrix_conf": capture["matrix_conf"]}


def run_val(spec: dict[str, Any], emitter: Emitter, cancel: CancelFlag) -> tuple[str, dict[str, Any]]:
    """Validate; return ("completed" | "cancelled", result). Raises on failure (the caller emits ``failed``)."""
    from remote_agent.data_check import refuse_unsafe_data
    from remote_agent.gate import load_yolo

    args = dict(spec["args"])
    source = Path(args.pop("model"))
    data = str(args.pop("data"))
    split = str(args.pop("split", "val"))
    refuse_unsafe_data(data)  # H3: a data set ultralytics would exec or fetch is refused before it sees it
    run_dir = Path(spec["run_dir"])
    emitter.emit("progress", done=0, total=1, label="loading the model")
    model = load_yolo(source, task=spec.get("task"), trusted=spec.get("trusted_sha256") or (),
                      copy_to=run_dir / "weights-in" / source.name)
    task = str(model.task)
    names = [str(model.names[i]) for i in range(len(model.names))]
    if task == "classify":
        refuse_foreign_classes(data, split, names)
    seen: dict[str, Any] = {}

    def on_val_start(validator: Any) -> None:
        seen["validator"] = validator

    def on_val_batch_end(validator: Any) -> None:
        if cancel.requested:
            raise _Cancelled
        loader = validator.dataloader
        total = len(loader) if loader is not None else 0
        seen["batches"] = seen.get("batches", 0) + 1
        emitter.emit("progress", done=seen["batches"], total=total, label="validating")

    model.add_callback("on_val_start", on_val_start)
    model.add_callback("on_val_batch_end", on_val_batch_end)
    stored = args.pop("matrix_conf", None)  # ours, not ultralytics': the confidence the stored matrix is counted at
    validator_class = capturing_validator(model.task_map[model.task]["validator"],
                                          MATRIX_CONF if stored is None else float(stored))
    try:
        metrics = model.val(validator=validator_class, data=data, split=split, **args, **FIXED,
                            project=str(run_dir), name="val")
    except _Cancelled:
        return "cancelled", {}
    capture = build_capture(seen["validator"], metrics, task, names, data, split)
    path = run_dir / CAPTURE_NAME
    write_json_atomic(path, capture)
    size, sha = path.stat().st_size, file_sha256(path)
    emitter.emit("artifact", path=str(path), size=size, sha256=sha, kind="validation")
    return "completed", {"path": str(path), "size": size, "sha256": sha, "task": task, "data": data, "split": split,
                         "args": capture["args"], "summary": summary_of(capture)}
