"""``yolodesk train --worker any-gpu``: the job waits saying why (no worker has a GPU), and cancels as any job."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from tests.helpers import until

CLI = [sys.executable, "-m", "app"]


def lines_of(stream) -> list[str]:  # type: ignore[no-untyped-def]
    """The lines a child prints, gathered on a thread (a test never blocks on a child that stays silent)."""
    got: list[str] = []
    threading.Thread(target=lambda: got.extend(iter(stream.readline, "")), daemon=True).start()
    return got


def test_an_any_gpu_training_says_why_it_waits_then_cancels(home, tiny_data):
    env = {**os.environ, "YOLODESK_HOME": str(home)}
    train = subprocess.Popen([*CLI, "train", "model=yolo26n.yaml", f"data={tiny_data['detect']}", "epochs=1",
                              "imgsz=64", "--worker", "any-gpu", "--gpu-mem", "8"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = lines_of(train.stdout), lines_of(train.stderr)
    try:
        reason = "Waiting for a GPU with ≥ 8 GiB free: no workers yet: add one under Workers (yolodesk workers add)\n"
        until(lambda: bool(out) and reason in err, 60, f"no job line or no reason printed: {out} {err}")
        assert out[0].startswith("job ") and out[0].endswith("on any-gpu:8 (queued)\n"), out
        # before the placer's first probe ended it is looking; then it says there is no worker to ask
        assert set(err[:err.index(reason)]) <= {"Waiting for a GPU with ≥ 8 GiB free: looking for a free GPU on the "
                                                "workers…\n"}, err
        job_id = out[0].split()[1].rstrip(":")
        cancel = subprocess.run([*CLI, "cancel", job_id], env=env, capture_output=True, text=True, timeout=60)
        assert cancel.returncode == 0, cancel.stderr
        until(lambda: train.poll() is not None, 30, "yolodesk train did not end once its job was cancelled")
        # the reader thread may still be appending the last lines after the process ended
        until(lambda: f"job {job_id} cancelled" in "".join(err), 10, f"no cancelled line: {err}")
        assert train.returncode == 1
    finally:
        if train.poll() is None:
            train.kill()
        train.wait(10)


def test_the_export_tab_reads_where_an_any_gpu_export_waits(lib, checkpoints):
    """What the Export tab's detail shows for a queued any-GPU export: the target and, whole, why it waits."""
    from app.qt.view_data import load_export_view
    from tests.helpers import tidy_manager

    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt")
    model = getattr(model, "model", model)
    with tidy_manager(lib) as m:
        m.submit_export(model.id, "onnx", {}, worker="any-gpu")
        want = "any GPU worker (Waiting for a GPU: no workers yet: add one under Workers (yolodesk workers add))"
        until(lambda: load_export_view(lib, lib.model(model.id)).where.get("onnx") == want, 20,
              "the export view does not say why the export waits")
