"""Training arguments checked before a job exists: ultralytics' rules, our ranges, the model and the device.

Each check returns problems per field (``{"lr0": "must be a number, not 'abc'"}``), so the CLI prints
``yolodesk train: lr0: …`` and the New Model dialog marks the field; nothing here starts torch.
"""

from __future__ import annotations

import difflib
import functools
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.jobs.ultralytics_rules import check_cfg_value, rules, shipped_model_yaml

# Arguments YOLO Desk sets itself: the agent passes project/name/exist_ok (a second value is a TypeError there).
OWNED_BY_YOLODESK = {
    "project": "YOLO Desk puts every run in the job's own folder",
    "name": "YOLO Desk puts every run in the job's own folder (use --name for the model's name)",
    "exist_ok": "YOLO Desk puts every run in the job's own folder",
    "save_dir": "YOLO Desk puts every run in the job's own folder",
    "mode": "this is a training",
    "cfg": "a configuration file would override every argument, the data set included; give key=value pairs",
    "augmentations": "Albumentations objects cannot travel in a job spec",
}
GIVEN_APART = ("model", "data", "task", "epochs", "imgsz", "batch", "device")  # TrainRequest's own fields


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _whole(v: Any) -> bool:
    return _is_int(v) or (isinstance(v, float) and v.is_integer())


def check_epochs(value: Any) -> str | None:
    """Whole number ≥ 1 (ultralytics' CFG_INT_MIN)."""
    if not _whole(value):
        return f"epochs must be a whole number, not {value!r}"
    return None if 1 <= value <= 100_000 else "epochs must be at least 1 (and at most 100000)"


def check_imgsz(value: Any, stride: int = 32) -> str | None:
    """A positive whole multiple of the stride, 32…4096 (ultralytics would round anything else)."""
    if not _whole(value):
        return f"image size must be a whole number of pixels, not {value!r}"
    size = int(value)
    if size <= 0:
        return f"image size must be positive, not {size}"
    if not stride <= size <= 4096:
        return f"image size must be between {stride} and 4096 pixels"
    if size % stride:
        down, up = size // stride * stride, -(-size // stride) * stride
        return (f"image size must be a multiple of {stride} (the model's stride): ultralytics would round {size} up "
                f"to {up}; try {down} or {up}")
    return None


def check_batch(value: Any) -> str | None:
    """A count 1…4096, -1 for AutoBatch, or a fraction of GPU memory in (0, 1) (ultralytics' documented forms)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return f"batch must be a number, not {value!r}"
    if value == -1 or 0 < value < 1 or (1 <= value <= 4096 and float(value).is_integer()):
        return None
    return "batch is a count (1…4096), -1 for auto, or a fraction of GPU memory (0…1)"


def check_fraction(value: Any) -> str | None:
    """The share of the training set to use, in (0, 1]."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return f"fraction must be a number in (0, 1], not {value!r}"
    return None if 0 < value <= 1 else f"fraction is the share of the training images to use, in (0, 1], not {value}"


def check_task(value: Any) -> str | None:
    """One of ultralytics' TASKS."""
    tasks = rules().tasks
    return None if value in tasks else f"{value!r} is not a task (tasks: {', '.join(tasks)})"


def check_model_source(model: str) -> str | None:
    """A checkpoint or YAML file that exists, or a model YAML that ships inside ultralytics."""
    p = Path(model).expanduser()
    if "://" in model:
        return f"{model} is a URL; YOLO Desk works offline and never downloads a model"
    if p.suffix.lower() in (".yaml", ".yml"):
        if p.is_file() or shipped_model_yaml(model):
            return None
        return f"{model} is neither a file nor a model YAML that ships with ultralytics (e.g. yolo26n.yaml)"
    if p.suffix.lower() == ".pt":
        return None if p.is_file() else f"{model} does not exist"
    if p.is_file():
        return f"{p.name} is neither a .pt checkpoint nor a model .yaml"
    return f"{model} is not a model file, a model YAML or a library model"


def check_user_model_yaml(path: Path) -> str | None:
    """Why a model YAML of the user's would run code when ultralytics builds it (``parse_model`` ``eval``s its
    ``activation`` and looks module names up in its globals); None when every name is one ultralytics defines."""
    from remote_agent.checkpoint_scan import CheckpointError
    from remote_agent.data_check import load_yaml_like_ultralytics
    from remote_agent.model_config import check_model_config

    try:
        cfg = load_yaml_like_ultralytics(path)  # yaml_model_load reads it with the same YAML.load
    except (OSError, ValueError) as e:
        return f"{path.name} could not be read: {e}"
    if not isinstance(cfg, dict):
        return f"{path.name} is not a model description (expected backbone:/head:)"
    try:
        check_model_config(cfg)
    except CheckpointError as e:
        return f"{path.name}: {e.message}"
    return None


def check_model_file(model: str) -> str | None:
    """:func:`check_model_source`, then a user's model YAML through the same config check as a ``.pt``."""
    why = check_model_source(model)
    p = Path(model).expanduser()
    if why is None and p.suffix.lower() in (".yaml", ".yml") and p.is_file():
        why = check_user_model_yaml(p)
    return why


def check_extra(extra: dict[str, Any]) -> dict[str, str]:
    """Problems with the other ``key=value`` arguments: unknown keys (with suggestions), types, our ranges."""
    r = rules()
    problems: dict[str, str] = {}
    for key, value in extra.items():
        if key in OWNED_BY_YOLODESK:
            problems[key] = f"not accepted: {OWNED_BY_YOLODESK[key]}"
        elif key in GIVEN_APART:
            problems[key] = f"give {key}= once, as its own argument"
        elif key not in r.defaults:
            near = difflib.get_close_matches(key, list(r.defaults), n=3)
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            problems[key] = f"not an ultralytics argument{hint}"
        elif key == "pretrained" and not isinstance(value, bool):
            problems[key] = ("must be true or false: a path would load weights past YOLO Desk's checkpoint checks "
                             "(fine-tune a library model instead)")
        elif key == "resume" and value is not False:
            problems[key] = "not accepted: resuming would load a checkpoint past YOLO Desk's checks; retry the job"
        elif key == "fraction" and (why := check_fraction(value)) is not None:
            problems[key] = why
        elif (why := check_cfg_value(key, value)) is not None:
            problems[key] = why
    return problems


ANY_GPU_WHERE = "any GPU worker"  # the machine of a job that waits to be placed (app.jobs.placement)


@dataclass(frozen=True)
class MachineDevices:
    """What a machine can train on: where it is, its CUDA indices, whether it has Apple's MPS."""

    where: str  # "this machine" or "worker gpu-box"
    cuda: tuple[int, ...] | None  # None: not known (a worker never tested)
    mps: bool = False
    cluster: bool = False  # a Slurm or Ray worker: a device there is a count of GPUs (app.jobs.cluster_gpus)


@functools.cache
def _local_probe() -> tuple[tuple[int, ...], bool]:
    # torch in a child: the CLI and the window's process never load it just to count GPUs
    code = ("import json, torch; m = getattr(torch.backends, 'mps', None); "
            "print(json.dumps([torch.cuda.device_count() if torch.cuda.is_available() else 0, "
            "bool(m and m.is_available())]))")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        n, mps = json.loads(out.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return (), False
    return tuple(range(int(n))), bool(mps)


def local_devices() -> MachineDevices:
    """This machine's devices (torch asked once per process, in a child process)."""
    cuda, mps = _local_probe()
    return MachineDevices("this machine", cuda, mps)


def worker_devices(info: dict[str, Any] | None, name: str) -> MachineDevices:
    """A worker's devices from its last ``info`` (``cuda_devices``); unknown when it was never tested."""
    if info is None:
        return MachineDevices(f"worker {name}", None)
    return MachineDevices(f"worker {name}", tuple(int(d["index"]) for d in info.get("cuda_devices") or []))


def devices_on(lib: Any, worker: str | None) -> MachineDevices | None:
    """The devices of the machine a job will run on ("local" or a worker's name); None: ask when needed."""
    if not worker or worker == "local":
        return None  # probed only when a GPU is asked for: cpu needs no torch
    from app.jobs.placement import is_target

    if is_target(worker):
        return MachineDevices(ANY_GPU_WHERE, None)
    from app.jobs.workers import WorkerStore

    record = WorkerStore(lib).get(worker)
    if record.kind in ("slurm", "ray"):  # its GPUs are on nodes it picks, not on the login node or head we reach
        return MachineDevices(f"{record.kind.capitalize()} worker {record.name}", None, cluster=True)
    return worker_devices(record.info, record.name)


def check_device(value: Any, machine: MachineDevices | None = None) -> str | None:
    """``cpu``, ``mps`` or CUDA indices (``0``, ``cuda:1``, ``0,1``, ``-1`` for an idle one) that exist there."""
    text = "" if value is None else str(value).lower().replace(" ", "")
    if text in ("", "cpu"):
        return None  # '' lets ultralytics pick: a GPU if there is one, else the CPU
    machine = machine or local_devices()
    if text in ("mps", "mps:0"):
        return None if machine.mps else f"{machine.where} has no Apple MPS device"
    parts = text.replace("cuda:", "").split(",")
    if not all(p.isdigit() or p == "-1" for p in parts) or len(set(parts) - {"-1"}) != len(parts) - parts.count("-1"):
        return f"{value!r} is not a device: use cpu, mps, or CUDA indices such as 0, cuda:1 or 0,1"
    if machine.where == ANY_GPU_WHERE:  # which GPU is the placement's to pick, on the worker it picks
        return f"device={value} names a GPU of one machine: with any GPU worker, leave device out (the app picks it)"
    if machine.cluster:  # the cluster picks the node and the GPUs: device=0,1 asks for two, whichever they are
        return None if len(parts) <= 64 else f"device={value} asks {machine.where} for {len(parts)} GPUs (64 at most)"
    if machine.cuda is None:
        return f"{machine.where} was never tested, so its GPUs are not known: test it first (yolodesk workers test)"
    if not machine.cuda:
        return f"{machine.where} has no CUDA GPU, so no {value} (use device=cpu)"
    missing = [p for p in parts if p != "-1" and int(p) not in machine.cuda]
    if missing or len(parts) > len(machine.cuda):
        have = ", ".join(f"cuda:{i}" for i in machine.cuda)
        return f"{machine.where} has no cuda:{missing[0] if missing else parts[-1]} (it has {have})"
    return None


def default_device(lib: Any, worker: str | None) -> str:
    """A training's device when none is given: the CPU here and on an SSH worker; none (``""``) on any GPU worker
    and on a cluster, where it means the GPU the placement found, or the cluster's GPUs per job."""
    from app.library.repository import LibraryError

    try:
        machine = devices_on(lib, worker)
    except LibraryError:  # an unknown worker: the submission says so
        return "cpu"
    return "" if machine is not None and (machine.cluster or machine.where == ANY_GPU_WHERE) else "cpu"
