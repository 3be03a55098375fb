"""What a user asks to train, checked before anything starts; turned into the agent's job spec."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.jobs.args_check import (
    MachineDevices, check_batch, check_device, check_epochs, check_extra, check_imgsz, check_model_file, check_task,
)
from remote_agent.data_check import load_yaml_like_ultralytics, unsafe_data_reason

FAMILIES = {  # family → (yaml stem pattern, tasks it ships YAMLs for)
    "YOLO26": ("yolo26{scale}{suffix}", ("detect", "segment", "pose", "obb", "classify")),
    "YOLO11": ("yolo11{scale}{suffix}", ("detect", "segment", "pose", "obb", "classify")),
    "YOLOv8": ("yolov8{scale}{suffix}", ("detect", "segment", "pose", "obb", "classify")),
    "YOLOv5u": ("yolov5{scale}u{suffix}", ("detect",)),
}
SCALES = ("n", "s", "m", "l", "x")
TASK_SUFFIX = {"detect": "", "segment": "-seg", "pose": "-pose", "obb": "-obb", "classify": "-cls"}
IMG_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


class SpecError(Exception):
    """Problems with a request, per field (``dataset``, ``imgsz``, ``model``…), for the dialog to show."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def base_model_name(family: str, scale: str, task: str) -> str:
    """``("YOLO26", "n", "segment")`` → ``yolo26n-seg``."""
    pattern, tasks = FAMILIES[family]
    if task not in tasks:
        raise SpecError({"model": f"{family} has no {task} model (it has: {', '.join(tasks)})"})
    if scale not in SCALES:
        raise SpecError({"model": f"scale must be one of {', '.join(SCALES)}"})
    return pattern.format(scale=scale, suffix=TASK_SUFFIX[task])


def base_model_source(name: str, weights_dir: Path) -> tuple[str, bool]:
    """Pretrained ``<name>.pt`` when it is on disk, else the YAML that ships inside ultralytics."""
    pt = weights_dir / f"{name}.pt"
    if pt.is_file():
        return str(pt), True
    return f"{name}.yaml", False


@dataclass
class DatasetInfo:
    """What a data set on disk holds, read without ultralytics."""

    location: str
    name: str
    task: str | None  # the task its labels are for (None: cannot tell)
    names: list[str]
    train_images: int
    val_images: int
    kpt_shape: list[int] | None = None
    label_columns: set[int] = field(default_factory=set)


def _count_images(folder: Path, limit: int = 100_000) -> int:
    n = 0
    if folder.is_dir():
        for p in folder.rglob("*"):
            if p.suffix.lower() in IMG_EXTS:
                n += 1
                if n >= limit:
                    break
    return n


def _names(raw: Any) -> list[str]:
    entries = raw.values() if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    if any(isinstance(n, (list, dict)) for n in entries):  # a YAML alias bomb would str() to gigabytes
        raise SpecError({"dataset": "'names:' entries must be class names, not lists or mappings"})
    if isinstance(raw, dict):
        if not all(isinstance(k, int) or (isinstance(k, str) and k.isdigit()) for k in raw):
            raise SpecError({"dataset": "'names:' must map class numbers to names (0: cat, 1: dog)"})
        return [str(raw[k]) for k in sorted(raw, key=lambda k: int(k))]
    if isinstance(raw, list):
        return [str(n) for n in raw]
    return []


def inspect_dataset(location: str | Path) -> DatasetInfo:
    """Read a ``data.yaml`` or a classification folder; raise :class:`SpecError` saying what is wrong."""
    if "://" in str(location):
        raise SpecError({"dataset": unsafe_data_reason(str(location)) or f"{location} is a URL"})
    p = Path(location).expanduser()
    if not p.exists():
        raise SpecError({"dataset": f"{p} does not exist (YOLO Desk works offline: data sets must be on disk)"})
    if p.is_dir():
        unsafe = unsafe_data_reason(p)  # ultralytics reads a data.yaml it finds in the folder for non-classify tasks
        if unsafe:
            raise SpecError({"dataset": unsafe})
        train = p / "train"
        if not train.is_dir():
            raise SpecError({"dataset": f"{p} is a folder without train/: a classification data set needs "
                                        "train/<class>/ and val/<class>/ folders (or pick a data.yaml)"})
        classes = sorted(d.name for d in train.iterdir() if d.is_dir())
        if len(classes) < 2:
            raise SpecError({"dataset": f"{train} needs one sub-folder per class (found {len(classes)})"})
        val = next((p / v for v in ("val", "valid", "test") if (p / v).is_dir()), None)
        return DatasetInfo(str(p.resolve()), p.name, "classify", classes, _count_images(train),
                           _count_images(val) if val else 0)
    if p.suffix.lower() not in (".yaml", ".yml"):
        raise SpecError({"dataset": f"{p.name} is neither a data.yaml nor a classification folder"})
    if not p.is_file():  # a FIFO named data.yaml would block the read for ever
        raise SpecError({"dataset": f"{p.name} is not a regular file"})
    unsafe = unsafe_data_reason(p)
    if unsafe:
        raise SpecError({"dataset": unsafe})
    try:
        data = load_yaml_like_ultralytics(p)  # read as ultralytics will read it: we judge what it will use
    except (OSError, ValueError) as e:
        raise SpecError({"dataset": f"{p.name} could not be parsed: {e}"}) from e
    if not isinstance(data, dict):
        raise SpecError({"dataset": f"{p.name} is not a data set description (expected keys path/train/val/names)"})
    names = _names(data.get("names"))
    if not names and isinstance(data.get("nc"), int) and data["nc"] > 100_000:  # made-up names would fill memory
        raise SpecError({"dataset": f"{p.name}: 'nc: {data['nc']}' is more than 100000 classes"})
    if not names and isinstance(data.get("nc"), int):
        names = [str(i) for i in range(data["nc"])]
    if not names:
        raise SpecError({"dataset": f"{p.name} has no class names ('names:')"})
    for key in ("path", "train", "val"):
        value = data.get(key)
        if value is not None and not (isinstance(value, str) or (isinstance(value, list) and key != "path"
                                                                  and all(isinstance(v, str) for v in value))):
            # the value is not shown: an alias bomb's repr would be gigabytes
            what = "a list holding other things" if isinstance(value, list) else f"a {type(value).__name__}"
            raise SpecError({"dataset": f"{p.name}: '{key}:' must be a folder or file path, not {what}"})
    base = Path(data.get("path") or p.parent)
    if not base.is_absolute():
        base = (p.parent / base).resolve()
    splits = {}
    for split in ("train", "val"):
        entry = data.get(split)
        if not entry:
            raise SpecError({"dataset": f"{p.name} has no '{split}:' entry"})
        entries = entry if isinstance(entry, list) else [entry]
        folders = [Path(e) if Path(e).is_absolute() else base / e for e in entries]
        missing = [str(f) for f in folders if not f.exists()]
        if missing:
            raise SpecError({"dataset": f"{split} images not found: {missing[0]}"})
        splits[split] = folders
    columns: set[int] = set()
    for folder in splits["train"]:
        parts = list(folder.parts)  # ultralytics' rule: the last 'images' component becomes 'labels'
        if "images" in parts:
            parts[len(parts) - 1 - parts[::-1].index("images")] = "labels"
        labels = Path(*parts)
        for txt in sorted(labels.glob("*.txt"))[:20] if labels.is_dir() else []:
            for line in txt.read_text(errors="replace").splitlines():
                if line.strip():
                    columns.add(len(line.split()))
    kpt = data.get("kpt_shape")
    if kpt:
        task = "pose"
    elif not columns:
        task = None
    elif columns == {5}:
        task = "detect"
    elif columns == {9}:
        task = "obb"
    else:
        task = "segment"
    return DatasetInfo(str(p.resolve()), p.parent.name if p.name in ("data.yaml", "data.yml") else p.stem, task,
                       names, sum(_count_images(f) for f in splits["train"]),
                       sum(_count_images(f) for f in splits["val"]), kpt if isinstance(kpt, list) else None, columns)


def check_task_matches(model_task: str, ds: DatasetInfo) -> str | None:
    """A message when a model of ``model_task`` cannot train on ``ds``; None when it can."""
    if model_task == "classify":
        return None if ds.task == "classify" else "a classification model needs a folder of class sub-folders"
    if ds.task == "classify":
        return f"a {model_task} model needs a data.yaml with labels, not a classification folder"
    if model_task == "pose" and ds.task != "pose":
        return "a pose model needs a data set with keypoints ('kpt_shape' in data.yaml)"
    if model_task == "segment" and ds.task in ("detect",):
        return "the labels are boxes; a segmentation model needs polygon labels"
    if model_task == "obb" and ds.task not in ("obb", None):
        return "an OBB model needs rotated-box labels (class and 4 corner points per line)"
    return None


@dataclass
class TrainRequest:
    """A training as the New Model dialog or ``yolodesk train`` describes it."""

    model: str  # a YAML name (yolo26n.yaml), a .pt path, or a library model's weights
    task: str
    data: str
    epochs: int = 100
    imgsz: int = 640
    batch: float = 16
    device: str = "cpu"
    extra: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    project_id: int | None = None
    parent_id: str | None = None
    architecture: str | None = None
    worker: str | None = None  # train on this worker (None: this machine)

    def validate(self, devices: MachineDevices | None = None) -> DatasetInfo:
        """Check every field before a job exists (``devices``: the chosen machine's; None: this one, asked when
        a GPU is named); raise :class:`SpecError` with a reason per field."""
        problems: dict[str, str] = {}
        ds: DatasetInfo | None = None
        try:
            ds = inspect_dataset(self.data)
        except SpecError as e:
            problems.update(e.problems)
        task_problem = check_task(self.task)
        if task_problem:
            problems["task"] = task_problem
        elif ds is not None:
            mismatch = check_task_matches(self.task, ds)
            if mismatch:
                problems["dataset"] = mismatch
            elif ds.train_images == 0:
                problems["dataset"] = "no training images found"
        checks = (("imgsz", check_imgsz, self.imgsz), ("epochs", check_epochs, self.epochs),
                  ("batch", check_batch, self.batch), ("model", check_model_file, self.model))
        for name, check, value in checks:
            why = check(value)
            if why:
                problems[name] = why
        device_problem = check_device(self.device, devices)
        if device_problem:
            problems["device"] = device_problem
        problems.update(check_extra(self.extra))
        if problems or ds is None:
            raise SpecError(problems)
        return ds

    def agent_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"model": self.model, "data": self.data, "epochs": int(self.epochs),
                                "imgsz": int(self.imgsz), "batch": self.batch, "device": self.device}
        if self.task:
            args["task"] = self.task
        args.update(self.extra)
        return args
