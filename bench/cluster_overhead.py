"""Job overhead through Slurm and Ray against the same job on the SSH worker: submit → first event, and total time.

Starts what the tests start: a real sshd on 127.0.0.1, a single-node Slurm cluster (munged, slurmctld,
slurmd; needs root and slurm-wlm munge) and a Ray head with token auth (``ray[default]``, the test extra). The job is an ONNX export (imgsz 64, verified) of the fixture yolo26n,
run ``--runs`` times on each worker (alternating), each through a JobManager as the app runs it.

Usage: python bench/cluster_overhead.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import fixture_checkpoints, save

from app.jobs.manager import JobManager
from app.jobs.ray_options import store_ray_token
from app.jobs.workers import WorkerStore, probe
from app.library.repository import Library
from tests.cluster.conftest import start_cluster
from tests.cluster.ray_head import start_ray_head
from tests.remote.sshd import start_sshd


def first_event_at(events: Path, timeout: float = 300) -> float:
    """perf_counter() when the events file first holds a whole line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if events.exists() and b"\n" in events.read_bytes()[:65536]:
            return time.perf_counter()
        time.sleep(0.02)
    raise TimeoutError(f"no event in {events}")


def one_job(manager: JobManager, model_id: str, worker: str) -> tuple[float, float]:
    """(submit → first event, submit → Completed) in seconds, for one ONNX export (verified) on ``worker``."""
    t0 = time.perf_counter()
    job = manager.submit_export(model_id, "onnx", {"imgsz": 64}, worker=worker)
    first = first_event_at(job.events_path) - t0
    job = manager.wait(job.id, 600)
    total = time.perf_counter() - t0
    if job.status != "Completed":
        sys.exit(f"{worker}: the job ended {job.status}: {job.error}")
    return first, total


def report(times: dict[str, list[tuple[float, float]]]) -> None:
    """Print and save the medians so far (a run cut short keeps what it measured)."""
    result = {}
    for worker, label in (("box", "SSH worker"), ("hpc", "Slurm worker"), ("rc", "Ray worker")):
        firsts, totals = [t[0] for t in times[worker]], [t[1] for t in times[worker]]
        if not firsts:
            continue
        result[label] = {"first_event_s": round(statistics.median(firsts), 2),
                         "total_s": round(statistics.median(totals), 2), "runs": len(firsts)}
        print(f"{label:<14} submit → first event {statistics.median(firsts):6.2f} s   "
              f"total {statistics.median(totals):6.2f} s   (median of {len(firsts)})")
    save("cluster_overhead", result)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a killed run still stops its daemons (the with/finally)
    root = Path(tempfile.mkdtemp(prefix="yd-bench-cluster-"))
    os.environ["YOLODESK_SSH_CONFIG"] = str(root / "none")
    sshd = start_sshd(root / "sshd")
    try:
        with start_cluster() as cluster, start_ray_head() as head:
            lib = Library(root / "home")
            store = WorkerStore(lib)
            user = "root" if os.geteuid() == 0 else os.environ["USER"]
            store.add("box", "127.0.0.1", sshd.port, user, str(sshd.client_key), python=sys.executable)
            store.add("hpc", "127.0.0.1", sshd.port, user, str(sshd.client_key), python=sys.executable, kind="slurm",
                      options={"env": {"SLURM_CONF": str(cluster.conf)}, "cpus": 2})
            store.add("rc", "127.0.0.1", sshd.port, user, str(sshd.client_key), python=sys.executable, kind="ray",
                      options={"dashboard_port": head.dashboard_port})
            store_ray_token(lib.home, "rc", head.token)
            for name in ("box", "hpc", "rc"):
                assert probe(store, name, trust=sshd.fingerprint()).ok
            model = lib.import_checkpoint(fixture_checkpoints() / "detect_yolo26n.pt")
            model_id = getattr(model, "model", model).id
            manager = JobManager(lib, poll_interval=0.05)
            times: dict[str, list[tuple[float, float]]] = {"box": [], "hpc": [], "rc": []}
            one_job(manager, model_id, "box")  # warm-up: the data set uploaded, the agent's imports cached
            for _ in range(a.runs):
                for worker in ("box", "hpc", "rc"):
                    times[worker].append(one_job(manager, model_id, worker))
                    print(worker, "first event %.2f s, total %.2f s" % times[worker][-1], flush=True)
                report(times)
            manager.shutdown()
    finally:
        sshd.stop()


if __name__ == "__main__":
    main()
