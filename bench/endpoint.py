"""Endpoint overhead: throughput and p50/p95/p99 at concurrency 1, 4 and 16 through a real ``serve`` agent (HTTP,
multipart upload, JSON answer) against the same backend called in this process on the same picture bytes.

Both sides run the same model file on the same runtime (``--backend``: the .pt through the loading gate, or an ONNX
/ OpenVINO export made here first), through the same ``ServedModel`` (so the same intra-op thread count, which is
printed), on the same JPEG bytes. The in-process side is what the endpoint does minus HTTP: from ``concurrency``
threads, ``decode_image`` (header check + cv2.imdecode) then inference + ``Results.summary`` — called directly at
concurrency 1, through one queue-fed inference thread above (the model is not thread-safe). The endpoint side is
``concurrency`` keep-alive connections sending one pre-built multipart request each in turn (a minimal client: on a
2-core box the client shares the cores, and an HTTP library's own cost per request is not the server's). Each level
runs a fixed number of requests in blocks that alternate between the two sides (a change of the machine's load
falls on both), each block after an uncounted warm-up; ``--runs`` times, and the median of the runs is reported
(the throughput ratio and the added p95: the medians over the runs of each run's pair).
Goal: the endpoint keeps >= 0.9x the in-process throughput and adds <= 10 ms at p95.

Usage: python bench/endpoint.py [--backend pt|onnx|openvino] [--imgsz 320] [--requests 200] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import platform
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import ROOT, fixture_checkpoints, save

MAX_PIXELS = 40_000_000  # the endpoint's default cap: the in-process side runs the same check


def percentiles(ms: list[float]) -> dict[str, float]:
    """p50 / p95 / p99 of ``ms`` (milliseconds)."""
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50": round(q[49], 2), "p95": round(q[94], 2), "p99": round(q[98], 2)}


def machine() -> dict[str, Any]:
    """The CPU, its cores and how loaded the machine is now."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": cores, "load_average": [round(x, 2) for x in os.getloadavg()]}


def make_model_file(weights: Path, backend: str, imgsz: int, folder: Path) -> Path:
    """What the endpoint is given: the .pt itself, or its export for ``backend`` made at ``imgsz``."""
    if backend == "pt":
        return weights
    from remote_agent.gate import load_yolo

    model = load_yolo(weights, copy_to=folder / weights.name)
    return Path(model.export(format=backend, imgsz=imgsz, verbose=False))


class InProcess:
    """The endpoint's ``ServedModel`` loaded in this process: called directly at concurrency 1; above, client threads
    decode and one ``InferenceWorker`` thread runs the model from a queue (the model is not thread-safe, and threads
    taking turns on a lock would pay a wake-up per inference that a queue-fed thread does not)."""

    def __init__(self, model_file: Path, backend: str, imgsz: int) -> None:
        from remote_agent.serve_model import InferenceWorker, PredictParams, ServedModel

        self.model = ServedModel(str(model_file), backend, None, imgsz, None)
        self.params = PredictParams(imgsz=imgsz)
        self.worker = InferenceWorker(self.model, max_waiting=64)

    def level(self, picture: bytes, c: int, n: int, warmup: int) -> dict[str, Any]:
        """``n`` requests from ``c`` threads (after ``warmup`` uncounted ones): decode, infer, summary."""
        from remote_agent.serve_input import decode_image

        def one(_: int) -> float:
            t0 = time.perf_counter()
            image = decode_image(picture, MAX_PIXELS)
            if c == 1:
                self.model.predict(image, self.params)
            else:
                self.worker.submit(image, self.params).result()
            return (time.perf_counter() - t0) * 1000

        with concurrent.futures.ThreadPoolExecutor(c) as pool:
            list(pool.map(one, range(warmup)))
            t0 = time.perf_counter()
            ms = list(pool.map(one, range(n)))
            seconds = time.perf_counter() - t0
        return {"requests": n, "errors": 0, "seconds": seconds, "ms": ms}


def start_endpoint(model_file: Path, backend: str, imgsz: int, folder: Path,
                   say: Any = print) -> tuple[subprocess.Popen, str, str]:
    """A real agent running a ``serve`` job on ``model_file``; (process, url, token) once it is Ready."""
    from app.offline import offline_env, prepare_config_dir

    home = folder / "home"
    prepare_config_dir(home)
    token = secrets.token_urlsafe(32)
    token_file = folder / "token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    spec = {"id": "bench", "kind": "serve", "run_dir": str(folder / "run"), "system_interval": 30,
            "args": {"model": str(model_file), "format": backend, "imgsz": imgsz, "token_file": str(token_file),
                     "limits": {"queue": 64}}}
    (folder / "spec.json").write_text(json.dumps(spec))
    env = dict(os.environ, **offline_env(home), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "remote_agent", "run", str(folder / "spec.json")],
                            stdout=subprocess.PIPE, env=env, start_new_session=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        ev = json.loads(line)
        if ev["type"] == "log" and ev.get("text", "").strip():
            say(f"  endpoint: {ev['text'].rstrip()}")
        if ev["type"] == "endpoint" and ev.get("state") == "Ready":
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # keep it drained
            return proc, ev["url"], token
        if ev["type"] == "failed":
            sys.exit(f"the endpoint failed: {ev['message']}")
    sys.exit("the endpoint ended before it was ready")


def predict_request(url: str, token: str, picture: bytes) -> bytes:
    """One complete ``POST /predict`` (multipart ``file``, keep-alive), built once and sent as is every time."""
    host = url.split("//", 1)[1]
    boundary = secrets.token_hex(16)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"picture.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + picture + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /predict HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(v) for k, _, v in (h.partition(":") for h in lines[1:]) if k.lower() == "content-length")
    return int(lines[0].split(" ")[1]), await reader.readexactly(length)


def endpoint_level(url: str, request: bytes, c: int, n: int, warmup: int) -> dict[str, Any]:
    """``n`` requests over ``c`` connections (after ``warmup`` uncounted ones); every answer is checked."""
    host, port = url.split("//", 1)[1].rsplit(":", 1)

    async def run() -> dict[str, Any]:
        conns = [await asyncio.open_connection(host, int(port)) for _ in range(c)]
        ms: list[float] = []
        errors = [0]

        async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, todo: list[int]) -> None:
            while todo:
                todo.pop()
                t0 = time.perf_counter()
                status, body = await _post(reader, writer, request)
                ms.append((time.perf_counter() - t0) * 1000)
                errors[0] += status != 200 or not body.startswith(b'{"images":')

        warm = [0] * max(warmup, c)  # uncounted: connections open, server and caches warm
        await asyncio.gather(*(client(r, w, warm) for r, w in conns))
        ms.clear()
        todo = [0] * n  # one shared count: exactly n requests, whichever connection is free takes the next
        t0 = time.perf_counter()
        await asyncio.gather(*(client(r, w, todo) for r, w in conns))
        seconds = time.perf_counter() - t0
        for _, w in conns:
            w.close()
        return {"requests": len(ms), "errors": errors[0], "seconds": seconds, "ms": ms}

    return asyncio.run(run())


def interleaved(url: str, request: bytes, local: InProcess, picture: bytes, c: int,
                a: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """One level, both sides, in alternating blocks of requests (each side first every other block): on a shared
    machine the load of other processes changes within seconds, and it must fall on both sides alike."""
    block = max(a.block, 4 * c)
    parts: dict[str, list[dict[str, Any]]] = {"endpoint": [], "in_process": []}
    for i in range(max(1, round(a.requests / block))):
        sides = [("endpoint", lambda: endpoint_level(url, request, c, block, a.warmup)),
                 ("in_process", lambda: local.level(picture, c, block, a.warmup))]
        for side, measure in sides[::1 if i % 2 == 0 else -1]:
            parts[side].append(measure())
    out = {}
    for side, blocks in parts.items():
        ms = [x for b in blocks for x in b.pop("ms")]
        seconds = sum(b["seconds"] for b in blocks)
        out[side] = {"requests": len(ms), "errors": sum(b["errors"] for b in blocks),
                     "rps": round(len(ms) / seconds, 1), **percentiles(ms)}
    return out


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the runs (errors summed)."""
    out = {k: round(statistics.median(r[k] for r in runs), 2) for k in ("rps", "p50", "p95", "p99")}
    return {"requests": runs[0]["requests"], "errors": sum(r["errors"] for r in runs), **out,
            "rps_runs": [r["rps"] for r in runs]}


def table(doc: dict[str, Any]) -> str:
    """The result as a Markdown table, with the machine and the backend above it."""
    m = doc["machine"]
    lines = [f"{doc['model']} on {doc['backend']} ({doc['threads']}), {doc['picture']}, "
             f"{doc['requests']} requests a level, median of {doc['runs']} runs",
             f"{m['cpu']}, {m['cores']} cores, load average {m['load_average_before'][0]} before / "
             f"{m['load_average'][0]} after", "",
             "| concurrency | endpoint req/s | p50 / p95 / p99 ms | in-process req/s | p50 / p95 / p99 ms "
             "| throughput | added p95 |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in doc["rows"]:
        e, i = r["endpoint"], r["in_process"]
        lines.append(f"| {r['concurrency']} | {e['rps']} | {e['p50']} / {e['p95']} / {e['p99']} | {i['rps']} "
                     f"| {i['p50']} / {i['p95']} / {i['p99']} | {r['throughput_ratio']:.2f}x "
                     f"| {r['p95_added_ms']:+.1f} ms{'' if r['goal_met'] else ' (goal missed)'} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=("pt", "onnx", "openvino"), default="pt")
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--requests", type=int, default=200, help="requests counted at each concurrency level")
    p.add_argument("--warmup", type=int, default=8, help="uncounted requests before each block")
    p.add_argument("--block", type=int, default=50, help="requests a side runs before the other's turn (>= 4 x c)")
    p.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    a = p.parse_args()
    result_out = sys.stdout
    if a.json:  # the one JSON object alone on stdout: everything else (ultralytics' export log too) to stderr
        result_out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
    say = (lambda *x: print(*x, file=sys.stderr, flush=True)) if a.json else (lambda *x: print(*x, flush=True))
    before = machine()
    import cv2

    from remote_agent.export import test_image
    from remote_agent.gate import require_safe_load_env
    from remote_agent.serve_input import decode_image

    require_safe_load_env()
    weights = fixture_checkpoints() / "detect_yolo26n.pt"
    picture = cv2.imencode(".jpg", test_image(a.imgsz), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {"endpoint": {c: [] for c in a.levels},
                                                        "in_process": {c: [] for c in a.levels}}
    with tempfile.TemporaryDirectory(prefix="bench-endpoint-") as tmp:
        model_file = make_model_file(weights, a.backend, a.imgsz, Path(tmp))
        proc, url, token = start_endpoint(model_file, a.backend, a.imgsz, Path(tmp), say)
        local = InProcess(model_file, a.backend, a.imgsz)
        request = predict_request(url, token, picture)
        results = len(local.model.predict(decode_image(picture, MAX_PIXELS), local.params)["results"])
        try:
            for run in range(a.runs):
                for c in a.levels:
                    for side, result in interleaved(url, request, local, picture, c, a).items():
                        runs[side][c].append(result)
                        say(f"run {run + 1} {side:<10} c={c:<3} {result}")
        finally:
            local.worker.stop()
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    threads = local.model.threads
    rows = []
    for c in a.levels:
        pairs = list(zip(runs["endpoint"][c], runs["in_process"][c], strict=True))  # each run's two sides ran together
        ratios = [round(e["rps"] / i["rps"], 3) for e, i in pairs]
        ratio, added = statistics.median(ratios), statistics.median(e["p95"] - i["p95"] for e, i in pairs)
        e, i = median_of(runs["endpoint"][c]), median_of(runs["in_process"][c])
        rows.append({"concurrency": c, "endpoint": e, "in_process": i, "throughput_ratio": round(ratio, 3),
                     "throughput_ratio_runs": ratios, "p95_added_ms": round(added, 2),
                     "goal_met": ratio >= 0.9 and added <= 10 and not e["errors"]})
    doc = {"model": weights.name, "backend": a.backend, "threads": threads, "imgsz": a.imgsz,
           "picture": f"{a.imgsz}x{a.imgsz} JPEG, {len(picture)} bytes, {results} results at conf 0.25",
           "requests": a.requests, "warmup": a.warmup, "runs": a.runs,
           "machine": {**machine(), "load_average_before": before["load_average"]}, "rows": rows}
    save("endpoint", doc)
    print(json.dumps(doc) if a.json else "\n" + table(doc), file=result_out, flush=True)


if __name__ == "__main__":
    main()
