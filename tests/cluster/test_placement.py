"""One queue across workers: any-GPU jobs placed from what real workers say (the test sshd's box, the real Slurm
node with one gpu gres, the real Ray head), waiting with a reason per worker while none has a GPU free."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
from pathlib import Path

import pytest

from app.jobs.gpu_offers import FreeGpu, Offer, gpu_count, parse_sinfo_nodes
from app.jobs.placement import Placer, waiting_note
from app.jobs.spec import SpecError
from app.jobs.workers import probe
from app.library.repository import LibraryError
from app.qt.jobs_rows import load_job_rows
from tests.remote.conftest import box  # noqa: F401 (the fixture: the test sshd as an SSH worker)
from tests.helpers import assert_export_landed_verified, tidy_manager, tiny_train_request, until

# the box worker is this machine: where it has an NVIDIA GPU, the box offers it and "box: no GPU" cannot hold
no_gpu_here = pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this machine has an NVIDIA GPU")


def add_slurm_worker(workers, sshd, cluster, **options):  # type: ignore[no-untyped-def]
    """Worker ``hpc`` of kind slurm (as the ``slurm_box`` fixture adds it), added midway through a test."""
    workers.add("hpc", "127.0.0.1", sshd.port, "root", str(sshd.client_key), python=sys.executable, kind="slurm",
                options={"env": {"SLURM_CONF": str(cluster.conf)}, "time": "00:10:00", **options})
    assert probe(workers, "hpc", trust=sshd.fingerprint()).ok


@no_gpu_here
def test_the_picker_reads_each_kind_of_worker(lib, box,  # noqa: F811
                                               slurm_box, ray_box, workers, cluster):
    """Each worker's own answer: the box's tested info has no GPU, the Slurm node's gpu gres is idle, Ray has none."""
    workers.add("untested", "127.0.0.1", 1, "root")
    with tidy_manager(lib) as m:
        offers = m.placer.probe_now()
        assert offers["box"] == Offer("box", "ssh", reason="no GPU")
        assert offers["untested"].reason == "not tested yet, so its GPUs are unknown"
        assert offers["hpc"] == Offer("hpc", "slurm", (FreeGpu(None, None),))
        assert offers["raycluster"] == Offer("raycluster", "ray", reason="0 of 0 GPUs free")
        # the node's one GPU taken by a job of someone else's: Slurm says so, and so does the offer
        holder = cluster.run("sbatch", "--parsable", "--gres=gpu:1", "--time=2", "--output=/dev/null", "--wrap",
                             "sleep 60").stdout.strip()
        try:
            until(lambda: cluster.state(holder) == "RUNNING", 20, "the GPU-holding job did not start")
            assert m.placer.probe_now()["hpc"] == Offer("hpc", "slurm", reason="no idle node with gpu gres")
        finally:  # the node's only gres is free again for the next test
            cluster.run("scancel", holder)


@no_gpu_here
def test_any_gpu_waits_with_reasons_then_runs_where_a_gpu_is(lib, box,  # noqa: F811
                                                              workers, sshd, cluster, checkpoints, tiny_data):
    """Only a box without a GPU: the export stays Queued saying why; a Slurm worker with a free gres takes it."""
    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt")
    model = getattr(model, "model", model)
    with tidy_manager(lib) as m:
        job = m.submit_export(model.id, "onnx", {}, worker="any-gpu")
        until(lambda: waiting_note(m.store.get(job.id).result) == "Waiting for a GPU: box: no GPU", 20,
              "no reason on the waiting row")
        job = m.store.get(job.id)
        assert job.status == "Queued" and job.worker == "any-gpu"
        row = next(r for r in load_job_rows(lib) if r.id == job.id)  # what the Jobs panel draws
        assert (row.worker, row.note) == ("any GPU worker", "Waiting for a GPU: box: no GPU")
        add_slurm_worker(workers, sshd, cluster)
        until(lambda: m.store.get(job.id).worker == "hpc", 30, "the job was not placed on the Slurm worker")
        job = m.wait(job.id, 240)
        assert job.status == "Completed", job.error
        assert job.result is not None and "placement" not in job.result
        assert "resources" not in job.spec  # an ONNX export runs on the CPU: no cluster GPU is held for it
        sid = json.loads((Path(job.run_dir) / "remote.json").read_text())["slurm_job"]
        assert "TresPerNode=gres:gpu" not in cluster.run("scontrol", "show", "job", str(sid)).stdout
        assert_export_landed_verified(lib, job)
        # a training placed there asks Slurm for the GPU it was placed for, and runs as device 0 on the node
        # (it then fails on this machine, which has no CUDA behind the node's /dev/null gres: only the ask counts)
        train = m.submit_train(dataclasses.replace(tiny_train_request(tiny_data["detect"]), device=""), worker="any-gpu")
        until(lambda: (Path(m.store.get(train.id).run_dir) / "remote.json").exists(), 60, "the training was not sent")
        train = m.store.get(train.id)
        assert train.worker == "hpc" and train.spec["resources"] == {"gpus": 1}
        sid = json.loads((Path(train.run_dir) / "remote.json").read_text())["slurm_job"]
        assert "TresPerNode=gres:gpu:1" in cluster.run("scontrol", "show", "job", str(sid)).stdout
        assert json.loads((Path(train.run_dir) / "spec.remote.json").read_text())["args"]["device"] == "0"


def test_a_cluster_takes_several_jobs_at_once(lib, slurm_box, tiny_data, workers, cluster):
    """Slurm queues them itself: its worker's max submissions, not the one-training-per-machine limit, holds them."""
    options = workers.get("hpc").options
    workers.update("hpc", options={**options, "max_submissions": 1})
    with tidy_manager(lib) as m:
        first = m.submit_train(tiny_train_request(tiny_data["detect_big"], epochs=50), worker="hpc")
        second = m.submit_train(tiny_train_request(tiny_data["detect_big"], epochs=50), worker="hpc")
        until(lambda: m.store.get(first.id).status in ("Starting", "Running"), 30, "the first did not start")
        m.schedule()
        assert m.store.get(second.id).status == "Queued"  # one submission at a time, as the option says
        workers.update("hpc", options=options)  # the default: 8 at once
        m.schedule()
        assert m.store.get(second.id).status in ("Starting", "Running")  # two trainings on one machine
        assert m.store.get(first.id).status in ("Starting", "Running")  # …at the same time
    cluster.run("scancel", "--user", "root", check=False)


def test_targets_are_checked_before_any_row(lib, tiny_data):
    with tidy_manager(lib) as m:
        with pytest.raises(LibraryError, match="not a GPU memory"):
            m.submit_train(tiny_train_request(tiny_data["detect"]), worker="any-gpu:-3")
        req = dataclasses.replace(tiny_train_request(tiny_data["detect"]), device="0")
        with pytest.raises(SpecError) as refused:
            m.submit_train(req, worker="any-gpu")
        assert "leave device out" in refused.value.problems["device"]
        assert m.store.list() == [] and lib.models() == []


def test_sinfo_gres_columns_are_counted():
    assert gpu_count("gpu:a100:4(S:0-1),gpu:v100:1") == 5 and gpu_count("gpu:(null):0") == 0
    lines = "n1 idle gpu:2 gpu:0\nn2 mix gpu:a100:4(S:0-1) gpu:a100:3(IDX:0-2)\nn3 drain gpu:8 gpu:0\nn4 idle (null) (null)\n"
    assert parse_sinfo_nodes(lines) == (3, ["n1", "n2", "n3"])


def test_the_freest_measured_gpu_is_picked_and_memory_needs_are_kept(lib, tiny_data):
    """Offers as the probes make them: the one with the most measured free memory wins; too small ones say so."""
    with tidy_manager(lib) as m:
        job = m.new_job("train", {"args": {}}, None, None, worker="any-gpu:8")
        placer = Placer(lib, lambda: None, ttl=3600)  # the kept offers stand however slow the machine
        placer.keep({  # offers as the probes make them, for GPUs this machine does not have
            "a": Offer("a", "ssh", (FreeGpu(0, 10 * 2**30),)),
            "b": Offer("b", "ssh", (FreeGpu(0, 12 * 2**30), FreeGpu(1, 20 * 2**30), FreeGpu(2, 6 * 2**30))),
            "c": Offer("c", "slurm", (FreeGpu(None, None),)),
        })
        room = lambda _w: True  # noqa: E731
        assert placer.pick(job, set(), room, {}) == ("b", FreeGpu(1, 20 * 2**30))
        assert placer.pick(job, {("b", 1)}, room, {}) == ("b", FreeGpu(0, 12 * 2**30))
        assert placer.pick(job, {("b", 0), ("b", 1)}, room, {}) == ("a", FreeGpu(0, 10 * 2**30))
        assert placer.pick(job, {("b", 0), ("b", 1), ("a", 0)}, room, {}) == ("c", FreeGpu(None, None))
        assert placer.pick(job, {("b", 0), ("b", 1), ("a", 0)}, room, {"c": "refused"}) == (
            "a: its free GPUs are taken by our jobs · b: 1 GPU(s) free, the largest with 6.0 GiB, 8 GiB needed · "
            "c: refused")
