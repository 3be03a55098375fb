"""Models side by side: each one's latest validation and its training results, and which is best at what.

The numbers come from what the library already holds (no job runs): a model's newest validation row (its summary:
overall metrics and speed) and the model's own training results (``results.csv`` columns read at import) and
final metrics. Curves are in each validation's capture (``load_capture``), which the Compare view reads itself.
"""

from __future__ import annotations

from typing import Any

from app.library.repository import Library, LibraryError
from app.validation.store import latest_validation

MIN_MODELS, MAX_MODELS = 2, 6
HIGHER_IS_BETTER = ("precision", "recall", "map50", "map50_95", "fitness", "top1", "top5")
LOWER_IS_BETTER = ("preprocess", "inference", "postprocess")


def _entry(lib: Library, ref: str) -> dict[str, Any]:
    model = lib.find_model(ref)
    val = latest_validation(lib, model.id)
    validation = None
    if val is not None:
        validation = {"id": val.id, "data": val.data, "split": val.split, "created_at": val.created_at.isoformat(),
                      "args": val.args, "overall": dict(val.summary.get("overall") or {}),
                      "speed": dict(val.summary.get("speed") or {})}
    return {"id": model.id, "name": model.name, "task": model.task, "architecture": model.architecture,
            "params": model.params, "imgsz": model.imgsz, "names": list(model.class_names),
            "validation": validation,
            "training": {"metrics": dict(model.metrics or {}), "results": dict(model.results or {}),
                         "epochs": len((model.results or {}).get("epoch") or [])}}


def _best(entries: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Metric → ids of the models best at it (ties share it); only metrics at least two models have."""
    best: dict[str, list[str]] = {}
    for group, keys, pick in (("overall", HIGHER_IS_BETTER, max), ("speed", LOWER_IS_BETTER, min)):
        for key in keys:
            have = [(e["id"], v) for e in entries if e["validation"] is not None
                    and isinstance(v := e["validation"][group].get(key), (int, float))]
            if len(have) >= 2:
                top = pick(v for _, v in have)
                best[f"{group}.{key}"] = [mid for mid, v in have if v == top]
    return best


def compare_models(lib: Library, refs: list[str]) -> dict[str, Any]:
    """2–6 library models (names or ids) side by side; a :class:`LibraryError` for a wrong count or a mix of tasks."""
    if not MIN_MODELS <= len(refs) <= MAX_MODELS:
        raise LibraryError(f"compare takes {MIN_MODELS} to {MAX_MODELS} models, not {len(refs)}")
    entries = [_entry(lib, ref) for ref in refs]
    ids = [e["id"] for e in entries]
    if len(set(ids)) != len(ids):
        raise LibraryError("the same model is named twice")
    tasks = sorted({str(e["task"]) for e in entries})
    if len(tasks) > 1:
        raise LibraryError(f"these models do different tasks ({', '.join(tasks)}): compare models of one task")
    return {"task": tasks[0], "models": entries, "best": _best(entries),
            "unvalidated": [e["name"] for e in entries if e["validation"] is None]}
