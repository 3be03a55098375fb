"""One queue across workers: a job may target "any GPU worker", and the manager places it where a GPU is free.

A target job's row keeps ``any-gpu`` (or ``any-gpu:8`` with an 8 GiB memory need) as its worker while it is
Queued; once placed, the row's worker is the chosen one (and the spec names its GPU on an SSH worker, a gpu gres
on a Slurm one), so everything after — start, events, retry, the validation after a training — is that worker's
as if the user had picked it. While nothing fits, the row's ``result["placement"]`` says why, a reason a worker
("box1: no GPU · slurm1: no idle node with gpu gres · ray1: 0 of 0 GPUs free"): the Jobs panel and the Train /
Export tab show it. Workers are probed by :mod:`app.jobs.gpu_offers` off the manager's lock, all at once on
threads of their own, each within :data:`PROBE_TIMEOUT_S`; their answers are kept :data:`OFFER_TTL_S` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from app.jobs.gpu_offers import GIB, FreeGpu, Offer, describe_need, ray_offer, short_of_memory, slurm_offer, ssh_offer
from app.jobs.store import JobRecord
from app.library.repository import LibraryError

ANY_GPU = "any-gpu"
ANY_GPU_LABEL = "Any GPU worker (the app picks one with a free GPU)"  # the dialogs' choice of it
OFFER_TTL_S = 5.0  # how long a worker's answer stands: a GPU taken meanwhile is counted by our own placements
PROBE_TIMEOUT_S = 10.0  # one worker's probe; a slower one reads "no answer", the others are not held up
CLUSTER_KINDS = ("slurm", "ray")  # they queue jobs themselves: several submissions at once are theirs to order
DEFAULT_MAX_SUBMISSIONS = 8


def is_target(worker: str | None) -> bool:
    """Whether a job's worker is the any-GPU target rather than a machine."""
    return bool(worker) and (worker == ANY_GPU or str(worker).startswith(ANY_GPU + ":"))


def target_name(gpu_mem_gib: float | None = None) -> str:
    """The worker a target job's row keeps until it is placed: ``any-gpu`` or ``any-gpu:8``."""
    if gpu_mem_gib is None:
        return ANY_GPU
    if not gpu_mem_gib > 0 or gpu_mem_gib > 4096:
        raise LibraryError(f"--gpu-mem {gpu_mem_gib:g} is not a GPU memory in GiB (e.g. 8)")
    return f"{ANY_GPU}:{gpu_mem_gib:g}"


def target_from(worker: str | None, gpu_mem_gib: float | None) -> str | None:
    """The CLI's ``--worker`` with its ``--gpu-mem``: ``any-gpu:8`` for a target, the worker as given otherwise."""
    if gpu_mem_gib is None:
        return worker
    if worker != ANY_GPU:
        raise LibraryError("--gpu-mem goes with --worker any-gpu (a named worker's GPU is chosen with device=)")
    return target_name(gpu_mem_gib)


def need_bytes(worker: str) -> int | None:
    """The GPU memory a target asks for, in bytes (None: any free GPU will do)."""
    _, _, mem = worker.partition(":")
    if not mem:
        return None
    try:
        gib = float(mem)
    except ValueError as e:
        raise LibraryError(f"{worker!r} is not a target: use any-gpu or any-gpu:GiB (e.g. any-gpu:8)") from e
    target_name(gib)  # the same bounds as --gpu-mem
    return int(gib * GIB)


def describe_target(worker: str) -> str:
    """What the Jobs panel's Where column says of a target job: ``any GPU worker (≥ 8 GiB)``."""
    need = need_bytes(worker)
    return "any GPU worker" + (f" (≥ {need / GIB:g} GiB)" if need else "")


def max_submissions(options: dict[str, Any] | None) -> int:
    """How many jobs of ours a Slurm or Ray worker may hold at once (its ``max_submissions`` option)."""
    try:
        return max(1, int((options or {}).get("max_submissions") or DEFAULT_MAX_SUBMISSIONS))
    except (TypeError, ValueError):
        return DEFAULT_MAX_SUBMISSIONS


def held_gpus(active: list[JobRecord]) -> set[tuple[str, int]]:
    """(worker, CUDA index) of every GPU one of our starting or running jobs was given on an SSH worker."""
    held = set()
    for job in active:
        device = str((job.spec.get("args") or {}).get("device") or "").replace("cuda:", "")
        for part in device.split(","):
            if part.strip().isdigit():
                held.add((job.worker, int(part)))
    return held


class Placer:
    """Keeps every worker's latest :class:`Offer` and picks one for a target job (called under the manager's lock).

    ``kick`` is called (off-lock, from the probing thread) when fresh offers arrived: the manager schedules again.
    """

    def __init__(self, lib: Any, kick: Callable[[], None], ttl: float = OFFER_TTL_S,
                 probe_timeout: float = PROBE_TIMEOUT_S, transport_for: Callable[[str], Any] | None = None) -> None:
        self.lib, self.kick, self.ttl, self.probe_timeout = lib, kick, ttl, probe_timeout
        self.transport_for = transport_for
        self._offers: dict[str, Offer] | None = None
        self._at = 0.0
        self._placed_since: dict[str, int] = {}  # cluster worker -> our jobs placed there since its last probe
        self._probing = False
        self._closed = False
        self._guard = threading.Lock()

    def close(self) -> None:
        """No probe starts any more (the manager is shutting down: its transports are being closed)."""
        self._closed = True

    # ------------------------------------------------------------------ probing (never under the manager's lock)
    def offers(self) -> dict[str, Offer] | None:
        """The latest offers (None before the first probe ended); a probe starts in the background when stale."""
        with self._guard:
            if not self._probing and not self._closed and time.monotonic() - self._at > self.ttl:
                self._probing = True
                threading.Thread(target=self._probe_all, name="gpu-placement-probe", daemon=True).start()
            return self._offers

    def probe_now(self) -> dict[str, Offer]:
        """Ask every worker now and wait for the answers (for the CLI's listing and tests)."""
        return self.keep(self._collect())

    def keep(self, offers: dict[str, Offer]) -> dict[str, Offer]:
        """Take ``offers`` as the workers' latest answers (they stand for the offers' time to live)."""
        with self._guard:
            self._offers, self._at, self._placed_since = offers, time.monotonic(), {}
        return offers

    def _probe_all(self) -> None:
        try:
            self.keep(self._collect())
        finally:
            with self._guard:
                self._probing = False
        self.kick()

    def _collect(self) -> dict[str, Offer]:
        from app.jobs.workers import WorkerStore  # paramiko loads only once a worker is used

        store = WorkerStore(self.lib)
        workers = store.list()
        answers: dict[str, Offer] = {}

        def ask(worker: Any) -> None:
            try:
                if self._closed:
                    answers[worker.name] = Offer(worker.name, worker.kind, reason="not asked: the app is closing")
                elif worker.kind == "slurm" and self.transport_for is not None:
                    answers[worker.name] = slurm_offer(self.transport_for(worker.name), self.probe_timeout)
                elif worker.kind == "ray" and self.transport_for is not None:
                    answers[worker.name] = ray_offer(self.transport_for(worker.name), self.probe_timeout)
                else:
                    answers[worker.name] = ssh_offer(store, worker, self.probe_timeout)
            except Exception as e:  # noqa: BLE001 — a worker's failure is its reason, never the scheduler's crash
                said = str(e).strip().splitlines()
                answers[worker.name] = Offer(worker.name, worker.kind,
                                             reason=f"could not be asked ({said[0][:160] if said else type(e).__name__})")

        threads = [threading.Thread(target=ask, args=(w,), name=f"probe-{w.name}", daemon=True) for w in workers]
        for t in threads:
            t.start()
        deadline = time.monotonic() + self.probe_timeout + 2
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return {w.name: answers.get(w.name) or Offer(w.name, w.kind,
                                                     reason=f"no answer within {self.probe_timeout:.0f} s")
                for w in workers}

    # ------------------------------------------------------------------ picking (under the manager's lock)
    def pick(self, job: JobRecord, held: set[tuple[str, int]], room: Callable[[str], bool],
             refused: dict[str, str]) -> tuple[str, FreeGpu] | str:
        """(worker, GPU) for the target job, or the one-line reason per worker why it waits.

        ``held``: GPUs our active jobs have; ``room(worker)``: the worker's job limit for this kind allows one more;
        ``refused``: workers that cannot run this job at all, with why.
        """
        offers = self.offers()
        if offers is None:
            return "looking for a free GPU on the workers…"
        if not offers:
            return "no workers yet: add one under Workers (yolodesk workers add)"
        need = need_bytes(job.worker)
        best: tuple[tuple[int, int], str, FreeGpu] | None = None
        reasons = []
        for name, offer in sorted(offers.items()):
            if offer.reason or name in refused:
                reasons.append(f"{name}: {offer.reason or refused[name]}")
                continue
            unheld = [g for g in offer.gpus if g.index is None or (name, g.index) not in held]
            if offer.kind in CLUSTER_KINDS:
                unheld = unheld[self._placed_since.get(name, 0):]  # those our placements took since the probe
            free = [g for g in unheld if need is None or g.free_bytes is None or g.free_bytes >= need]
            if not free:
                reasons.append(f"{name}: " + (short_of_memory(unheld, need) if unheld and need
                                              else "its free GPUs are taken by our jobs"))
                continue
            if not room(name):
                reasons.append(f"{name}: at its limit of jobs of ours")
                continue
            gpu = max(free, key=lambda g: g.free_bytes or 0)
            rank = (1 if gpu.free_bytes is not None else 0, gpu.free_bytes or 0)  # measured memory first, most free
            if best is None or rank > best[0]:
                best = (rank, name, gpu)
        if best is None:
            return " · ".join(reasons)
        return best[1], best[2]

    def place(self, job: JobRecord, store: Any, held: set[tuple[str, int]], room: Callable[[str], bool]) -> JobRecord:
        """The target job's row placed on a worker (worker and spec rewritten), or with why it waits on it."""
        from app.jobs.workers import WorkerStore  # paramiko loads only once a worker is used

        refused: dict[str, str] = {}
        while True:
            got = self.pick(job, held, room, refused)
            if isinstance(got, str):
                placement = {"waiting": got, "need": need_bytes(job.worker)}
                if (job.result or {}).get("placement") == placement:
                    return job
                return store.set(job.id, result={"placement": placement})  # a new reason: views redraw it
            name, gpu = got
            try:
                worker = WorkerStore(self.lib).get(name)
            except LibraryError as e:  # removed since the probe
                refused[name] = str(e)
                continue
            spec = placed_spec(job, worker, gpu)
            if isinstance(spec, str):
                refused[name] = spec
                continue
            if gpu.index is not None:
                held.add((name, gpu.index))
            else:
                self._placed_since[name] = self._placed_since.get(name, 0) + 1
            return store.set(job.id, worker=name, spec=spec, result=None)


def placed_spec(job: JobRecord, worker: Any, gpu: FreeGpu) -> dict[str, Any] | str:
    """The target job's spec for the chosen worker (its GPU named), or why that worker cannot run this job."""
    spec = {**job.spec, "args": dict(job.spec.get("args") or {})}
    args = spec["args"]
    if job.kind == "export":
        from app.exporters.registry import get
        from app.jobs.workers import worker_can_export

        fmt = get(str(args.get("format")))
        if worker.kind == "ssh" and (problem := worker_can_export(worker, fmt, args)):
            return problem
        if gpu.index is not None and fmt.needs_gpu:
            args["device"] = str(gpu.index)
        if not fmt.needs_gpu:
            return spec  # it runs on the CPU, as it would on an SSH worker: no cluster GPU held for it
    elif gpu.index is not None and str(args.get("device") or "") in ("", "-1"):
        args["device"] = str(gpu.index)  # an SSH worker: the free GPU picked (a Slurm or Ray job: the engine's)
    if worker.kind in CLUSTER_KINDS:  # the cluster is asked for the GPU it had free (app.jobs.cluster_gpus)
        spec["resources"] = {**(spec.get("resources") or {}), "gpus": 1}
    return spec


def waiting_note(result: dict[str, Any] | None) -> str | None:
    """Why an active job's row waits: for a GPU (a target job), in Slurm's queue, or Ray's PENDING message."""
    from app.jobs.slurm_batch import waiting_text

    placement = (result or {}).get("placement")
    if isinstance(placement, dict) and placement.get("waiting"):
        return f"Waiting for a GPU{describe_need(placement.get('need'))}: {placement['waiting']}"
    ray = (result or {}).get("ray")
    if isinstance(ray, dict) and ray.get("state") == "PENDING":
        asks = f" (asks {ray['asks']})" if ray.get("asks") else ""
        return f"Pending in Ray{asks}" + (f": {ray['message']}" if ray.get("message") else "")
    return waiting_text(result)
