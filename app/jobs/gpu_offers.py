"""What each worker can offer an any-GPU job right now: its free GPUs (with free memory where it is known), or why none.

Every probe asks the worker's own source of truth and nothing else: an SSH worker's GPUs are those its agent's
``info`` listed when it was tested, their memory in use what ``nvidia-smi`` says there now; a Slurm worker's are
the gpu gres of its idle (or partly used) nodes, from ``sinfo`` on the login node; a Ray worker's are the cluster's
GPU resources not in use, from the dashboard's ``/api/cluster_status`` through the worker's tunnel. Probes run off
the job manager's lock, on threads of their own, each within a time-out (:class:`app.jobs.placement.Placer`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # paramiko loads only once a worker is probed, not with the manager
    from app.jobs.workers import WorkerRecord, WorkerStore

GIB = 2**30
# a gpu gres count in sinfo's Gres / GresUsed columns: gpu:2, gpu:a100:4(S:0-1), gpu:(null):0
GPU_GRES_RE = re.compile(r"\bgpu(?::(?:\(null\)|[A-Za-z][\w.-]*))?:(\d+)")
SINFO_FORMAT = "NodeList:80,StateCompact:24,Gres:120,GresUsed:120"
SCHEDULABLE = ("idle", "mix", "mixed")  # a drained, down or fully allocated node takes no new job


@dataclass(frozen=True)
class FreeGpu:
    """One GPU a job could have now."""

    index: int | None  # its CUDA index on an SSH worker; None where the cluster picks the device
    free_bytes: int | None  # None: the engine does not say (a Slurm gres, a Ray GPU resource)


@dataclass(frozen=True)
class Offer:
    """A worker's free GPUs, or (with none) the one-line reason why it cannot take an any-GPU job."""

    worker: str
    kind: str
    gpus: tuple[FreeGpu, ...] = ()
    reason: str | None = None

    def fitting(self, need_bytes: int | None) -> list[FreeGpu]:
        """The free GPUs with at least ``need_bytes`` free (all of them when there is no need or no measure)."""
        return [g for g in self.gpus if need_bytes is None or g.free_bytes is None or g.free_bytes >= need_bytes]


def gpu_count(text: str) -> int:
    """How many GPUs a sinfo Gres (or GresUsed) column names."""
    return sum(int(m.group(1)) for m in GPU_GRES_RE.finditer(text))


def parse_sinfo_nodes(out: str) -> tuple[int, list[str]]:
    """(free GPUs on schedulable nodes, nodes with gpu gres) from ``sinfo -h -N -O`` :data:`SINFO_FORMAT` lines."""
    free, with_gres = 0, []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        node, state, gres, used = fields[0], fields[1].lower(), fields[2], fields[3]
        total = gpu_count(gres)
        if total == 0:
            continue
        with_gres.append(node)
        if state.rstrip("+") in SCHEDULABLE:  # '*' (not responding), '~' (powered off)… stay out
            free += max(0, total - gpu_count(used))
    return free, sorted(set(with_gres))


def parse_nvidia_smi(out: str) -> dict[int, tuple[int, int]]:
    """``index, memory.used, memory.total`` CSV lines (MiB, no units) → {index: (used bytes, total bytes)}."""
    found: dict[int, tuple[int, int]] = {}
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            found[int(parts[0])] = (int(parts[1]) * 2**20, int(parts[2]) * 2**20)
    return found


def ssh_offer(store: WorkerStore, worker: WorkerRecord, timeout: float) -> Offer:
    """An SSH worker's GPUs from its tested ``info``, their free memory from ``nvidia-smi`` there now."""
    if worker.info is None:
        return Offer(worker.name, worker.kind, reason="not tested yet, so its GPUs are unknown")
    listed = worker.gpus
    if not listed:
        return Offer(worker.name, worker.kind, reason="no GPU")
    from app.jobs.ssh import SSHError, run  # paramiko loads only once a worker is probed

    measured: dict[int, tuple[int, int]] = {}
    try:
        client = store.client(worker, timeout=timeout)
        try:
            code, out, _err = run(client, "nvidia-smi --query-gpu=index,memory.used,memory.total "
                                          "--format=csv,noheader,nounits", timeout=timeout)
        finally:
            client.close()
    except (SSHError, OSError) as e:
        return Offer(worker.name, worker.kind, reason=f"unreachable ({str(e).splitlines()[0][:120]})")
    if code == 0:
        measured = parse_nvidia_smi(out)
    gpus = []
    for g in listed:
        index = int(g["index"])
        used, total = measured.get(index, (0, int(g.get("memory") or 0)))  # no nvidia-smi: its size from info
        gpus.append(FreeGpu(index, max(0, total - used) if total else None))
    return Offer(worker.name, worker.kind, tuple(gpus))


def slurm_offer(transport: Any, timeout: float) -> Offer:
    """A Slurm worker's free gpu gres on idle or partly used nodes (of its partition, when it has one)."""
    part = f" -p {transport.options.partition}" if transport.options.partition else ""  # checked: WORD_RE
    code, out, err = transport.slurm(f"sinfo -h -N{part} -O '{SINFO_FORMAT}'", timeout=timeout)
    if code != 0:
        said = (err or out).strip().splitlines() or [f"exit {code}"]
        return Offer(transport.name, "slurm", reason=f"sinfo failed: {said[-1][:160]}")
    free, with_gres = parse_sinfo_nodes(out)
    if free == 0:
        return Offer(transport.name, "slurm", reason="no idle node with gpu gres")
    return Offer(transport.name, "slurm", tuple(FreeGpu(None, None) for _ in range(free)))


def ray_offer(transport: Any, timeout: float) -> Offer:
    """A Ray cluster's GPU resources not in use, as its autoscaler's load report gives them."""
    used, total = transport.cluster_gpus(timeout)
    free = int(max(0.0, total - used))
    if free == 0:
        return Offer(transport.name, "ray", reason=f"{free} of {total:g} GPUs free")
    return Offer(transport.name, "ray", tuple(FreeGpu(None, None) for _ in range(free)))


def describe_need(need_bytes: int | None) -> str:
    """`` with ≥ 8 GiB free`` for a memory requirement, else nothing."""
    return f" with ≥ {need_bytes / GIB:g} GiB free" if need_bytes else ""


def short_of_memory(gpus: list[FreeGpu], need_bytes: int) -> str:
    """Why a worker whose free GPUs are all too small does not fit: the largest free memory it has."""
    best = max((g.free_bytes or 0) for g in gpus)
    return f"{len(gpus)} GPU(s) free, the largest with {best / GIB:.1f} GiB, {need_bytes / GIB:g} GiB needed"
