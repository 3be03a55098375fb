"""The checks a ``val`` request passes before any job exists: its data set, split and ``key=value`` arguments.

The same rules as training's (``app/jobs/args_check.py``): ultralytics' own ``check_cfg`` types and ranges, the
device against the chosen machine, a data set ultralytics would execute or fetch refused; plus what only
validation needs: the data set's task and classes must be the model's, and the split must be there.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from app.jobs.args_check import check_batch, check_device, check_imgsz, devices_on
from app.jobs.spec import SpecError, check_task_matches, inspect_dataset
from app.jobs.ultralytics_rules import check_cfg_value
from app.library.records import ModelRecord
from app.library.repository import Library
from remote_agent.data_check import load_yaml_like_ultralytics

SPLITS = ("train", "val", "test")
# What a validation may be told; the rest (plots, save_json, project, name…) the agent sets itself
VAL_KEYS = ("conf", "matrix_conf", "iou", "imgsz", "batch", "device", "max_det", "half", "single_cls", "agnostic_nms", "workers",
            "rect", "augment")


def _check_one(key: str, value: Any) -> str | None:
    if key in ("conf", "iou", "matrix_conf"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
            return f"must be a number from 0 to 1, not {value!r}"
        return None
    if key == "imgsz":
        return check_imgsz(value)
    if key == "batch":
        return check_batch(value)
    if key == "half" and not isinstance(value, bool):  # ultralytics takes any word as true; 'maybe' is no answer
        return f"must be true or false, not {value!r}"
    if key in ("max_det", "workers") and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        return f"must be a whole number of 0 or more, not {value!r}"
    return check_cfg_value(key, value)


def check_val_args(args: dict[str, Any]) -> dict[str, str]:
    """Problems with the ``key=value`` arguments of a validation, per key (empty when all are fine)."""
    problems: dict[str, str] = {}
    for key, value in args.items():
        if key not in VAL_KEYS:
            near = difflib.get_close_matches(key, VAL_KEYS, n=2)
            hint = f"; did you mean {' or '.join(near)}?" if near else f" (it takes {', '.join(VAL_KEYS)})"
            problems[key] = f"not a validation argument{hint}"
        elif key != "device" and (why := _check_one(key, value)) is not None:
            problems[key] = why
    return problems


def _has_split(location: Path, split: str) -> bool:
    if location.is_dir():  # a classification folder: ultralytics takes val/, else valid/ or test/ for "val"
        names = (split,) if split != "val" else ("val", "valid", "test")
        return any((location / n).is_dir() for n in names)
    data = load_yaml_like_ultralytics(location)
    return isinstance(data, dict) and bool(data.get(split))


def _names_differ(data_names: list[str], model_names: list[str], is_classify: bool) -> str | None:
    """Why the data set's classes cannot be counted as the model's, or None.

    A label file's class id means the data set's class of that number, and the matrix names it by the model's:
    the two lists must be the same, in order. Class folders are matched to the model's names by name
    (ultralytics' ``ClassificationDataset``), so only a folder set sharing no name with the model is refused.
    """
    if is_classify:
        if set(data_names) & set(model_names):
            return None
        return (f"its classes are {', '.join(data_names)}, the model's {', '.join(model_names)}: none is the same")
    if data_names == model_names:
        return None
    first = next(i for i, (a, b) in enumerate(zip(data_names, model_names, strict=True)) if a != b)
    return (f"class {first} is {data_names[first]!r} there and {model_names[first]!r} in the model: the matrix "
            "would name its truths by the model's classes; validate it on a data set of the same classes in order")


def check_val_request(lib: Library, model: ModelRecord, data: str | None, split: str, args: dict[str, Any],
                      worker: str) -> tuple[str, str, list[str]]:
    """(data set location, its name, its class names) once every check passed; :class:`SpecError` otherwise."""
    problems = check_val_args(args)
    if "device" in args and (why := check_device(args["device"], devices_on(lib, worker))) is not None:
        problems["device"] = why
    if split not in SPLITS:
        problems["split"] = f"must be one of {', '.join(SPLITS)}, not {split!r}"
    location = data or (model.dataset.location if model.dataset else model.dataset_ref)
    if not location:
        problems["data"] = f"{model.name!r} has no data set of its own: give data=… (a data.yaml or a folder)"
    if problems:
        raise SpecError(problems)
    try:
        ds = inspect_dataset(str(location))
    except SpecError as e:
        raise SpecError({"data": e.problems.get("dataset", str(e))}) from None
    is_classify = ds.task == "classify"
    if is_classify != (model.task == "classify"):
        kind = "a classification folder" if is_classify else "a data.yaml of boxes"
        raise SpecError({"data": f"{ds.location} is {kind}; {model.name!r} is a {model.task} model"})
    if (why := check_task_matches(model.task, ds)) is not None:  # e.g. box-only labels for a segment model
        raise SpecError({"data": f"{ds.location}: {why}"})
    if model.class_names and len(ds.names) != len(model.class_names):
        raise SpecError({"data": f"{ds.location} has {len(ds.names)} classes, {model.name!r} has "
                                 f"{len(model.class_names)}: validate it on a data set of its classes"})
    if model.class_names and (why := _names_differ(ds.names, list(model.class_names), is_classify)) is not None:
        raise SpecError({"data": f"{ds.location}: {why}"})
    if split in SPLITS and not _has_split(Path(ds.location), split):
        raise SpecError({"split": f"{ds.location} has no {split} split"})
    return ds.location, ds.name, ds.names
