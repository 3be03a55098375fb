"""Endpoint overhead: throughput and p50/p95/p99 at concurrency 1, 4 and 16 through a real ``serve`` agent (HTTP,
multipart upload, JSON answer) against the same backend called in this process on the same picture bytes.

The in-process side is what the endpoint does minus HTTP: decode the bytes (cv2.imdecode), queue the image to one
inference thread (the model is not thread-safe) from ``concurrency`` client threads, ``Results.summary`` of the
answer. Goal: the endpoint keeps >= 0.9x the in-process throughput and adds <= 10 ms at p95.

Usage: python bench/endpoint.py [--imgsz 320] [--requests 60] [--levels 1 4 16] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, fixture_checkpoints, save


def percentiles(ms: list[float]) -> dict[str, float]:
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50": round(q[49], 2), "p95": round(q[94], 2), "p99": round(q[98], 2)}


class InProcess:
    """The same ServedModel and InferenceWorker the endpoint runs, called from threads in this process."""

    def __init__(self, weights: Path, imgsz: int) -> None:
        from remote_agent.gate import require_safe_load_env

        require_safe_load_env()
        from remote_agent.serve_model import InferenceWorker, PredictParams, ServedModel

        self.worker = InferenceWorker(ServedModel(str(weights), "pt", None, imgsz, None), max_waiting=64)
        self.params = PredictParams(imgsz=imgsz)


def in_process(local: InProcess, picture: bytes, levels: list[int], per_level: int) -> dict[int, dict]:
    """Each concurrency level through ``local``: decode, queue, infer, summary."""
    import cv2
    import numpy as np

    worker, params = local.worker, local.params

    def one(_: int) -> float:
        t0 = time.perf_counter()
        image = cv2.imdecode(np.frombuffer(picture, np.uint8), cv2.IMREAD_COLOR)
        worker.submit(image, params).result()
        return (time.perf_counter() - t0) * 1000

    out = {}
    for c in levels:
        n = per_level * c
        with concurrent.futures.ThreadPoolExecutor(c) as pool:
            list(pool.map(one, range(c * 2)))  # warm the pool
            t0 = time.perf_counter()
            ms = list(pool.map(one, range(n)))
        out[c] = {"requests": n, "rps": round(n / (time.perf_counter() - t0), 1), **percentiles(ms)}
        print(f"in-process  c={c:<3} {out[c]}", flush=True)
    return out


def start_endpoint(weights: Path, folder: Path) -> tuple[subprocess.Popen, str, str]:
    from app.offline import offline_env, prepare_config_dir

    home = folder / "home"
    prepare_config_dir(home)
    token = secrets.token_urlsafe(32)
    token_file = folder / "token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    spec = {"id": "bench", "kind": "serve", "run_dir": str(folder / "run"), "system_interval": 30,
            "args": {"model": str(weights), "token_file": str(token_file), "limits": {"queue": 64}}}
    (folder / "spec.json").write_text(json.dumps(spec))
    env = dict(os.environ, **offline_env(home), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "remote_agent", "run", str(folder / "spec.json")],
                            stdout=subprocess.PIPE, env=env, start_new_session=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        ev = json.loads(line)
        if ev["type"] == "endpoint" and ev.get("state") == "Ready":
            return proc, ev["url"], token
        if ev["type"] == "failed":
            sys.exit(f"the endpoint failed: {ev['message']}")
    sys.exit("the endpoint ended before it was ready")


def through_endpoint(url: str, token: str, picture: bytes, imgsz: int, levels: list[int],
                     per_level: int) -> dict[int, dict]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}

    async def level(c: int) -> dict:
        ms: list[float] = []
        errors = [0]

        async def client(n: int, http: httpx.AsyncClient) -> None:
            for _ in range(n):
                t0 = time.perf_counter()
                r = await http.post(f"{url}/predict", headers=headers, files={"file": picture},
                                    data={"imgsz": str(imgsz)})
                ms.append((time.perf_counter() - t0) * 1000)
                errors[0] += r.status_code != 200

        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=c), timeout=60) as http:
            await asyncio.gather(*(client(2, http) for _ in range(c)))  # connections opened, server warm
            ms.clear()
            t0 = time.perf_counter()
            await asyncio.gather(*(client(per_level, http) for _ in range(c)))
            seconds = time.perf_counter() - t0
        return {"requests": len(ms), "errors": errors[0], "rps": round(len(ms) / seconds, 1), **percentiles(ms)}

    out = {}
    for c in levels:
        out[c] = asyncio.run(level(c))
        print(f"endpoint    c={c:<3} {out[c]}", flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--requests", type=int, default=60, help="requests per client at each concurrency level")
    p.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16])
    p.add_argument("--rounds", type=int, default=2)
    a = p.parse_args()
    import cv2

    from remote_agent.export import test_image

    weights = fixture_checkpoints() / "detect_yolo26n.pt"
    picture = cv2.imencode(".png", test_image(a.imgsz))[1].tobytes()
    served: dict[int, dict] = {}
    local: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-endpoint-") as tmp:
        proc, url, token = start_endpoint(weights, Path(tmp))
        model = InProcess(weights, a.imgsz)
        try:
            # alternate the two sides level by level, a.rounds times, keeping each side's best round: on a shared
            # machine the load of other processes changes over a minute, and it must not favour one side
            for _ in range(a.rounds):
                for c in a.levels:
                    e = through_endpoint(url, token, picture, a.imgsz, [c], a.requests)[c]
                    i = in_process(model, picture, [c], a.requests)[c]
                    served[c] = max(served.get(c, e), e, key=lambda r: r["rps"])
                    local[c] = max(local.get(c, i), i, key=lambda r: r["rps"])
        finally:
            model.worker.stop()
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    rows = []
    for c in a.levels:
        ratio = served[c]["rps"] / local[c]["rps"]
        added = served[c]["p95"] - local[c]["p95"]
        rows.append({"concurrency": c, "endpoint": served[c], "in_process": local[c],
                     "throughput_ratio": round(ratio, 3), "p95_added_ms": round(added, 2),
                     "goal_met": ratio >= 0.9 and added <= 10})
        print(f"c={c:<3} throughput {ratio:.2f}x of in-process, p95 {added:+.1f} ms "
              f"({'goal met' if rows[-1]['goal_met'] else 'goal missed'})")
    save("endpoint", {"model": weights.name, "imgsz": a.imgsz, "picture": f"{a.imgsz}x{a.imgsz} PNG",
                      "cpus": os.cpu_count(), "load_average": os.getloadavg(), "rows": rows})


if __name__ == "__main__":
    main()
