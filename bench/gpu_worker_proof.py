"""Issue 5's GPU proof, as one prepared run on a bare CUDA box (../shared/gpu/README.md).

On the box the app and the worker are the same machine: sshd from `.gpu/start-sshd.sh` on
127.0.0.1:2222, the worker's interpreter `/opt/torch/.venv/bin/python3` (torch + CUDA). This
script adds that sshd as a worker (host key pinned from `.gpu/host_ed25519.pub`), tests it,
trains yolo26n for 1 epoch on `device=0` through the SSH transport, exports fp16 ONNX on the
GPU through it (verified there), reads the GPU meters from the job's `system` events, and
checks the TensorRT dispatch (the box has no tensorrt: the precise refusal is the expected
outcome). Everything goes to `$OUT/gpu_worker_proof.json`.

Prepare here: `bash ../shared/gpu/prepare.sh sqlalchemy alembic mako markupsafe platformdirs
psutil typing_extensions pyyaml greenlet` (the app's own pure-Python needs), then on the device:
`bash .gpu/start-sshd.sh; PYTHONPATH=/tmp/site:. /opt/torch/.venv/bin/python3 bench/gpu_worker_proof.py $OUT`
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pub_fingerprint(pub: Path) -> str:
    blob = base64.b64decode(pub.read_text().split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def main(out: Path) -> None:
    home = Path(tempfile.mkdtemp(prefix="yd-gpu-"))
    os.environ.update(YOLODESK_HOME=str(home), YOLODESK_SSH_CONFIG=str(home / "none"))
    from app.offline import apply_offline

    apply_offline(home)
    from app.demo_data import write_dataset
    from app.jobs.events import read_all
    from app.jobs.manager import JobManager
    from app.jobs.spec import TrainRequest
    from app.jobs.workers import WorkerStore, probe
    from app.library.repository import Library, LibraryError

    report: dict = {"started": time.time()}
    lib = Library(home)
    store = WorkerStore(lib)
    store.add("gpu", "127.0.0.1", 2222, "root", str(ROOT / ".gpu" / "client_ed25519"),
              python="/opt/torch/.venv/bin/python3")
    t0 = time.monotonic()
    p = probe(store, "gpu", trust=pub_fingerprint(ROOT / ".gpu" / "host_ed25519.pub"))
    report["probe"] = {"seconds": round(time.monotonic() - t0, 2), "problems": p.problems, "notes": p.notes,
                       "gpus": (p.info or {}).get("cuda_devices"), "torch": (p.info or {}).get("torch"),
                       "ultralytics": (p.info or {}).get("ultralytics")}
    print(json.dumps(report["probe"], indent=2), flush=True)
    manager = JobManager(lib, poll_interval=0.1)
    data = write_dataset(home / "data", "detect", n_train=32, n_val=8, size=128)
    req = TrainRequest(model="yolo26n.yaml", task="detect", data=str(data), epochs=1, imgsz=128, batch=8, device="0",
                       extra={"plots": False, "workers": 0})
    t0 = time.monotonic()
    job = manager.wait(manager.submit_train(req, worker="gpu").id, 600)
    events = read_all(job.events_path)
    gpus = [g for e in events if e.get("type") == "system" for g in (e.get("gpus") or [])]
    report["train"] = {"status": job.status, "error": job.error, "seconds": round(time.monotonic() - t0, 1),
                       "epochs": [e["epoch"] for e in events if e["type"] == "epoch"],
                       "gpu_samples": len(gpus), "gpu_max_util": max((g.get("util") or 0 for g in gpus), default=None),
                       "gpu_max_mem": max((g.get("mem_used") or 0 for g in gpus), default=None),
                       "gpu_name": gpus[0].get("name") if gpus else None,
                       "device_line": next((e["text"] for e in events if e.get("type") == "log" and "CUDA:0" in
                                            e.get("text", "")), None)}
    print(json.dumps(report["train"], indent=2), flush=True)
    if job.status == "Completed":
        t0 = time.monotonic()
        ex = manager.wait(manager.submit_export(job.model_id, "onnx", {"half": True, "imgsz": 128, "device": "0"},
                                                worker="gpu").id, 600)
        from app.exporters.store import ExportStore

        rec = ExportStore(lib).by_job(ex.id)
        report["export_onnx_fp16"] = {"status": ex.status, "error": ex.error, "seconds": round(time.monotonic() - t0, 1),
                                      "verified": rec.verified if rec else None,
                                      "verification": rec.verification if rec else None,
                                      "size": rec.size if rec else None}
        print(json.dumps(report["export_onnx_fp16"], indent=2), flush=True)
        try:
            manager.submit_export(job.model_id, "engine", {"half": True}, worker="gpu")
            report["tensorrt_dispatch"] = "submitted (tensorrt present on the worker)"
        except LibraryError as e:
            report["tensorrt_dispatch"] = f"refused before starting: {e}"
        print("TensorRT:", report["tensorrt_dispatch"], flush=True)
    manager.shutdown()
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_worker_proof.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out"))
