"""What a job asks a cluster for in GPUs, and the device it names once it runs there.

A cluster hands a job its GPUs and shows it only those: Slurm's gres and Ray's ``entrypoint_num_gpus`` both set
``CUDA_VISIBLE_DEVICES``, so the job sees them as 0…n-1 on whichever node the cluster chose. A job's device on
a cluster is therefore a count, not a name: ``device=0`` asks for one GPU, ``device=2,3`` for two (run as
``0,1``), ``device=cpu`` for none. A job that names no device asks for the worker's GPUs per job (a Slurm
worker's ``--gres``, a Ray worker's ``--gpus``, default 1: ``--gpus 0`` for a cluster without GPUs), or for
the one GPU an any-GPU job was placed for. A validation takes one GPU at most (ultralytics validates on the
first it is given). An export runs on the CPU (its default device) unless the user named GPUs or its format
needs one (TensorRT: at least one, whatever the default). The login node's or head's own GPUs mean nothing
here: a cluster's GPUs are on its compute nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_GPUS_PER_JOB = 64


@dataclass(frozen=True)
class GpuAsk:
    """GPUs to ask the cluster for, and the job's device argument there (None: leave it to ultralytics)."""

    gpus: int
    device: str | None


def named_gpus(device: Any) -> int | None:
    """How many GPUs a device argument names: None when it names none (unset or empty), 0 for the CPU."""
    text = "" if device is None else str(device).strip().lower().replace(" ", "")
    if text in ("", "none"):
        return None
    if text in ("cpu", "mps", "mps:0"):
        return 0
    parts = text.replace("cuda:", "").split(",")
    if not all(p.isdigit() or p == "-1" for p in parts):
        raise ValueError(f"{device!r} is not a device: use cpu or CUDA indices such as 0 or 0,1")
    return len(parts)


def visible(n: int) -> str | None:
    """The device naming the ``n`` GPUs a cluster gave (``0,1`` for two), ``cpu`` for none."""
    return ",".join(str(i) for i in range(n)) if n else "cpu"


def cluster_ask(spec: dict[str, Any], per_job: int) -> GpuAsk:
    """The GPUs ``spec``'s job asks a cluster for, with its device there (see the module's docstring)."""
    args = spec.get("args") or {}
    named = named_gpus(args.get("device"))
    if named is not None and named > MAX_GPUS_PER_JOB:
        raise ValueError(f"device={args.get('device')} asks for {named} GPUs; a job may have {MAX_GPUS_PER_JOB}")
    placed = int((spec.get("resources") or {}).get("gpus") or 0)  # an any-GPU job: the GPU it was placed for
    if spec.get("kind") == "export":
        from app.exporters.registry import get

        if get(str(args.get("format"))).needs_gpu:  # TensorRT: a GPU whatever the export's CPU default says
            n = max(1, named or 0, placed)
            return GpuAsk(n, visible(n))
        # an export's device is cpu unless the user named GPUs: ultralytics exports on the CPU
        return GpuAsk(named, visible(named)) if named is not None else GpuAsk(0, None)
    if named is None:  # none named: the worker's GPUs per job (at least the one an any-GPU job was placed for)
        named = max(placed, per_job)
    if spec.get("kind") == "val":
        named = min(named, 1)  # ultralytics validates on the first device it is given: no GPU held idle
    return GpuAsk(named, visible(named))


def _gpu_entry(entry: str) -> tuple[str | None, int] | None:
    """``gpu`` / ``gpu:2`` / ``gpu:a100`` / ``gpu:1080ti:2`` / ``gpu:3g.20gb:1`` → (type, count); None: not a gpu."""
    parts = entry.strip().split(":")
    if parts[0] != "gpu" or len(parts) > 3 or not all(parts):
        return None
    if len(parts) == 1:
        return None, 1
    if len(parts) == 2:
        return (None, int(parts[1])) if parts[1].isdigit() else (parts[1], 1)
    return (parts[1], int(parts[2])) if parts[2].isdigit() else None


def gres_count(gres: str | None) -> int:
    """The GPUs a Slurm gres string asks for (``gpu:a100:2,shard:1`` → 2; no gpu entry → 0)."""
    return sum(got[1] for e in (gres or "").split(",") if (got := _gpu_entry(e)) is not None)


def gres_with(gres: str | None, gpus: int) -> str | None:
    """``gres`` with its gpu entry asking for ``gpus`` (its type kept), added when it has none, dropped for 0."""
    entries = [e.strip() for e in (gres or "").split(",") if e.strip()]
    others = [e for e in entries if _gpu_entry(e) is None]
    typed = next((got[0] for e in entries if (got := _gpu_entry(e)) is not None and got[0]), None)
    if gpus > 0:
        others.insert(0, f"gpu:{typed}:{gpus}" if typed else f"gpu:{gpus}")
    return ",".join(others) or None


def default_per_job(kind: str, options: dict[str, Any] | None) -> str:
    """What a cluster worker's job gets when it names no device, in words: ``gres gpu:a100:4``, ``1 GPU``, ``CPU``."""
    if kind == "slurm":
        gres = (options or {}).get("gres")
        return f"gres {gres}" if gres else "CPU: no gres set"
    from app.jobs.ray_options import RayOptions

    n = RayOptions.from_json(options).gpus
    return f"{n} GPU{'s' if n != 1 else ''}" if n else "CPU"
