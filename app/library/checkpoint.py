"""Read what a ``.pt`` checkpoint holds without executing it and without importing torch.

:func:`inspect_checkpoint` opens the torch zip, runs the restricted unpickler of
:mod:`remote_agent.safe_pickle` (via :mod:`remote_agent.checkpoint_scan`) over ``data.pkl`` and turns the inert result into a
:class:`CheckpointInfo`, or raises :class:`CheckpointError` with a verdict a user can act on.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.library.architecture import architecture_from_yaml
from app.library.plain import INT64_MAX, PlainBudget, plain
from app.library.untrusted import printable  # one escaping for display, re-exported here
from remote_agent.checkpoint_scan import CheckpointError, scan_checkpoint, sha256_file
from remote_agent.safe_pickle import InertObject, TensorRef

__all__ = ["CheckpointError", "CheckpointInfo", "inspect_checkpoint", "printable", "sha256_file"]

_TASK_BY_CLASS = {
    "DetectionModel": "detect", "SegmentationModel": "segment", "PoseModel": "pose", "OBBModel": "obb",
    "ClassificationModel": "classify", "RTDETRDetectionModel": "detect", "WorldModel": "detect",
    "YOLOEModel": "detect", "YOLOESegModel": "segment", "SemanticModel": "semantic", "DepthModel": "depth",
}
# The metric a model list sorts by, per task (ultralytics' own TASK2METRIC, plus our display name).
KEY_METRIC = {
    "detect": ("metrics/mAP50-95(B)", "mAP50-95"), "obb": ("metrics/mAP50-95(B)", "mAP50-95"),
    "segment": ("metrics/mAP50-95(M)", "mask mAP50-95"), "pose": ("metrics/mAP50-95(P)", "pose mAP50-95"),
    "classify": ("metrics/accuracy_top1", "top-1"), "semantic": ("metrics/mIoU", "mIoU"),
    "depth": ("metrics/delta1", "δ1"),
}


@dataclass
class CheckpointInfo:
    """Everything a YOLO checkpoint tells about itself, as plain data."""

    path: str
    size: int
    task: str | None
    architecture: str | None
    family: str | None
    scale: str | None
    model_class: str | None
    yaml_file: str | None
    names: list[str]
    nc: int | None
    imgsz: int | list[int] | None
    params: int | None
    dtype: str | None
    metrics: dict[str, float]
    results: dict[str, list[Any]]
    train_args: dict[str, Any]
    ultralytics_version: str | None
    date: str | None
    git: dict[str, Any] | None
    epoch: int | None
    best_fitness: float | None
    has_optimizer: bool
    has_ema: bool
    data: str | None
    sha256: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Number of per-epoch result rows."""
        return max((len(v) for v in self.results.values() if isinstance(v, list)), default=0)

    @property
    def training_state(self) -> bool:
        """True for a ``last.pt`` that can still resume training (optimizer state kept)."""
        return self.has_optimizer

    @property
    def key_metric(self) -> tuple[str, float] | None:
        name, label = KEY_METRIC.get(self.task or "", (None, None))
        if name and name in self.metrics:
            return label, self.metrics[name]
        return None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(ok=True, error=None, code=None, epochs=self.epochs, training_state=self.training_state)
        return d


def _model_object(ckpt: dict[Any, Any]) -> InertObject | None:
    for key in ("model", "ema"):
        obj = ckpt.get(key)
        if isinstance(obj, InertObject):
            return obj
    return None


def _is_tensor_dict(obj: Any) -> bool:
    return isinstance(obj, dict) and bool(obj) and all(isinstance(v, TensorRef) for v in obj.values())


def _count_params(model: InertObject, limit: int = 200_000) -> int:
    seen: set[int] = set()
    total = 0
    stack: list[Any] = [model]
    visited: set[int] = set()
    while stack and len(visited) < limit:
        m = stack.pop()
        if id(m) in visited or not isinstance(m, InertObject):
            continue
        visited.add(id(m))
        attrs = m.attrs
        for p in (attrs.get("_parameters") or {}).values():
            if isinstance(p, TensorRef) and id(p) not in seen:
                seen.add(id(p))
                total += p.numel
        mods = attrs.get("_modules") or {}
        if isinstance(mods, dict):
            stack.extend(mods.values())
    return total


def _first_param_dtype(model: InertObject) -> str | None:
    stack: list[Any] = [model]
    for _ in range(10_000):
        if not stack:
            break
        m = stack.pop()
        if not isinstance(m, InertObject):
            continue
        for p in (m.attrs.get("_parameters") or {}).values():
            if isinstance(p, TensorRef):
                return p.dtype
        stack.extend(reversed(list((m.attrs.get("_modules") or {}).values())))
    return None


def _names_list(names: Any) -> list[str]:
    if isinstance(names, dict):
        try:
            return [str(names[k]) for k in sorted(names, key=lambda k: int(k))]
        except (TypeError, ValueError):
            return [str(v) for v in names.values()]
    if isinstance(names, list | tuple):
        return [str(n) for n in names]
    return []


def _check_yolov5_original(stats_globals: set[str], ckpt: Any) -> None:
    if not any(g.startswith(("models.yolo.", "models.common.")) for g in stats_globals):
        return
    model = _model_object(ckpt) if isinstance(ckpt, dict) else None
    attrs = model.attrs if model else {}
    names = _names_list(plain(attrs.get("names")))
    yaml = plain(attrs.get("yaml")) or {}
    nc = yaml.get("nc") if isinstance(yaml, dict) else None
    nc = nc if isinstance(nc, int) else (len(names) or None)
    listed = ", ".join(names[:10]) + (" …" if len(names) > 10 else "")
    raise CheckpointError(
        "yolov5_original",
        f"original YOLOv5 checkpoint (ultralytics/yolov5 repository), not loadable by ultralytics; it holds {nc} "
        f"classes: {listed or 'unknown'}. Retrain as YOLOv5u, or export it with the YOLOv5 repository",
        {"names": names, "nc": nc},
    )


def inspect_checkpoint(path: str | os.PathLike[str], with_sha256: bool = False) -> CheckpointInfo:
    """Read a checkpoint's metadata safely; raise :class:`CheckpointError` with a verdict when it cannot be used."""
    path = Path(path)
    scan = scan_checkpoint(path)  # the same verdict as the agent's loading gate
    _check_yolov5_original(scan.globals, scan.ckpt)
    info = _build_info(path, scan.ckpt)
    info.warnings += scan.warnings
    if with_sha256:
        info.sha256 = sha256_file(path)
    return info


def _build_info(path: Path, ckpt: Any) -> CheckpointInfo:
    if isinstance(ckpt, InertObject) and ckpt._yd_name in _TASK_BY_CLASS:
        ckpt = {"model": ckpt}  # torch.save(model) of a whole YOLO model
    if _is_tensor_dict(ckpt) or (isinstance(ckpt, dict) and _is_tensor_dict(ckpt.get("state_dict") or ckpt.get("model"))):
        raise CheckpointError(
            "state_dict", "weights without a model definition (a plain state dict): YOLO Desk needs the full "
            "checkpoint ultralytics saves (best.pt / last.pt)",
        )
    if not isinstance(ckpt, dict):
        kind = ckpt.qualname() if isinstance(ckpt, InertObject) else type(ckpt).__name__
        raise CheckpointError("foreign", f"a PyTorch file, but not a YOLO checkpoint: it holds a {kind}")
    model = _model_object(ckpt)
    if model is None:
        keys = ", ".join(sorted(str(k) for k in ckpt)[:8])
        raise CheckpointError("foreign", f"a PyTorch file, but not a YOLO checkpoint: no model inside (keys: {keys})")
    budget = PlainBudget()  # one budget for the whole checkpoint: what it expands to is capped

    def plain_(obj: Any) -> Any:
        return plain(obj, 0, budget)

    attrs = model.attrs
    yaml = plain_(attrs.get("yaml"))
    yaml = yaml if isinstance(yaml, dict) else {}
    train_args = plain_(ckpt.get("train_args")) or plain_(attrs.get("args")) or {}
    train_args = train_args if isinstance(train_args, dict) else {}
    model_args = plain_(attrs.get("args"))
    model_args = model_args if isinstance(model_args, dict) else {}
    cls_name = model._yd_name
    task = train_args.get("task") or model_args.get("task") or attrs.get("task")
    task = task if isinstance(task, str) else None
    task = task or _TASK_BY_CLASS.get(cls_name) or _task_from_yaml(yaml)
    names = _names_list(plain_(attrs.get("names")))
    if not names and isinstance(yaml.get("names"), dict | list):
        names = _names_list(yaml["names"])
    arch = architecture_from_yaml(yaml, task)
    nc = len(names) or (yaml.get("nc") if isinstance(yaml.get("nc"), int) else None)
    imgsz = train_args.get("imgsz", model_args.get("imgsz"))
    metrics = plain_(ckpt.get("train_metrics")) or {}
    metrics = {str(k): float(v) for k, v in metrics.items() if isinstance(v, int | float)} if isinstance(metrics, dict) else {}
    results = plain_(ckpt.get("train_results")) or {}
    results = {str(k).strip(): list(v) for k, v in results.items() if isinstance(v, list)} if isinstance(results, dict) else {}
    warnings: list[str] = []
    if not names:
        warnings.append("no class names in the checkpoint")
    epoch = plain_(ckpt.get("epoch"))
    best = plain_(ckpt.get("best_fitness"))
    git = plain_(ckpt.get("git"))
    version = ckpt.get("version")
    date = ckpt.get("date")
    params = _count_params(model)
    if params > INT64_MAX:
        params, budget.dropped_ints = None, budget.dropped_ints + 1
    if budget.dropped_ints:
        warnings.append(f"{budget.dropped_ints} integers beyond the 64-bit range were dropped")
    data_ref = train_args.get("data")
    return CheckpointInfo(
        path=str(path), size=path.stat().st_size, task=task, architecture=arch.name, family=arch.family,
        scale=arch.scale, model_class=model.qualname(),
        yaml_file=str(yaml.get("yaml_file")) if yaml.get("yaml_file") else None,
        names=names, nc=nc, imgsz=imgsz if isinstance(imgsz, int | list) else None, params=params,
        dtype=_first_param_dtype(model), metrics=metrics, results=results, train_args=train_args,
        ultralytics_version=version if isinstance(version, str) else None,
        date=date if isinstance(date, str) else None, git=git if isinstance(git, dict) else None,
        epoch=epoch if isinstance(epoch, int) else None, best_fitness=best if isinstance(best, int | float) else None,
        has_optimizer=ckpt.get("optimizer") is not None, has_ema=isinstance(ckpt.get("ema"), InertObject),
        data=str(data_ref) if data_ref else None, warnings=warnings,
    )


def _task_from_yaml(yaml: dict[str, Any]) -> str | None:
    try:
        head = str(yaml["head"][-1][-2]).lower()
    except (KeyError, IndexError, TypeError):
        return None
    for key, task in (("classify", "classify"), ("detect", "detect"), ("semantic", "semantic"), ("segment", "segment"),
                      ("pose", "pose"), ("obb", "obb"), ("depth", "depth")):
        if key in head:
            return task
    return None
