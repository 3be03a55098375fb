"""Export of a validation: the matrix and the curves as CSV or JSON, the view as PNG; files written off the GUI thread.

The texts are made by plain functions (tested on their own); the writes go to a temporary file in the same folder,
then ``os.replace``, so an interrupted export never leaves half a file under the chosen name.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.views.validation.curves_panel import MEAN, mean_curve


def matrix_csv(counts: list[list[int]], names: list[str]) -> str:
    """The matrix as CSV: a header of true classes, then one row per predicted class."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["predicted \\ true", *names])
    for name, row in zip(names, counts, strict=True):
        w.writerow([name, *[int(v) for v in row]])
    return out.getvalue()


def matrix_json(counts: list[list[int]], names: list[str], conf: float, task: str) -> str:
    """The matrix as JSON: rows predicted, columns true, with the names and the confidence it was counted at."""
    return json.dumps({"task": task, "conf": conf, "names": names, "rows": "predicted", "columns": "true",
                       "matrix": [[int(v) for v in row] for row in counts]}, indent=1)


def curves_csv(curves: dict) -> str:
    """Every curve as CSV rows ``curve, x, <class>…, all classes`` (1000 rows per curve)."""
    classes = sorted({c for curve in curves.values() for c in curve.get("y", {})})
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["curve", "x", *classes, MEAN])
    for name, curve in curves.items():
        mean = mean_curve(curve)
        ys = curve.get("y", {})
        for i, x in enumerate(curve.get("x", [])):
            w.writerow([name, f"{x:.6g}", *[f"{ys[c][i]:.6g}" if c in ys else "" for c in classes],
                        f"{mean[i]:.6g}"])
    return out.getvalue()


def curves_json(curves: dict) -> str:
    """The curves as stored (name → x, labels, y per class) plus each one's all-classes mean."""
    return json.dumps({name: {**curve, "mean": [round(float(v), 6) for v in mean_curve(curve)]}
                       for name, curve in curves.items()}, indent=1, default=_plain)


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


def write_atomically(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file beside it; returns the path."""
    path = Path(path)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def writer_for(kind: str, capture: dict, counts: list[list[int]], names: list[str], conf: float
               ) -> Callable[[], str]:
    """The text maker for one export kind ("matrix-csv", "matrix-json", "curves-csv", "curves-json")."""
    makers: dict[str, Callable[[], str]] = {
        "matrix-csv": lambda: matrix_csv(counts, names),
        "matrix-json": lambda: matrix_json(counts, names, conf, str(capture.get("task", ""))),
        "curves-csv": lambda: curves_csv(capture.get("curves") or {}),
        "curves-json": lambda: curves_json(capture.get("curves") or {}),
    }
    return makers[kind]
