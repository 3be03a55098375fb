"""A job's GPUs on a cluster are a count (the cluster picks the node and shows the job only its own, as 0…n-1):
what each kind of job asks Slurm or Ray for, the device it runs with there, and how a worker's device is checked."""

from __future__ import annotations

import pytest

from app.jobs.args_check import check_device, default_device, devices_on
from app.jobs.cluster_gpus import GpuAsk, cluster_ask, gres_count, gres_with, named_gpus
from app.jobs.placement import placed_spec
from app.jobs.gpu_offers import FreeGpu
from app.jobs.ray_options import RayOptionError, RayOptions
from app.jobs.store import JobRecord


def train(device: object = None, **spec: object) -> dict:
    return {"kind": "train", "args": {"device": device} if device is not None else {}, **spec}


@pytest.mark.parametrize("device, gpus, there", [
    ("cpu", 0, "cpu"), ("0", 1, "0"), ("3", 1, "0"), ("cuda:2", 1, "0"), ("2,3", 2, "0,1"), ("-1,-1", 2, "0,1"),
    ("mps", 0, "cpu"), (" 1, 5 ", 2, "0,1"),
])
def test_a_named_device_is_a_count_renumbered_from_zero(device, gpus, there):
    assert cluster_ask(train(device), per_job=4) == GpuAsk(gpus, there)


def test_no_device_asks_the_workers_gpus_per_job():
    assert cluster_ask(train(), per_job=2) == GpuAsk(2, "0,1")
    assert cluster_ask(train(""), per_job=1) == GpuAsk(1, "0")
    assert cluster_ask(train(), per_job=0) == GpuAsk(0, "cpu")  # --gpus 0 / no gres: the CPU, said plainly


def test_a_validation_holds_one_gpu_at_most():
    # ultralytics validates on the first device it is given: the automatic one after a 2-GPU training asks one
    assert cluster_ask({"kind": "val", "args": {"device": "0,1"}}, per_job=4) == GpuAsk(1, "0")
    assert cluster_ask({"kind": "val", "args": {}}, per_job=4) == GpuAsk(1, "0")
    assert cluster_ask({"kind": "val", "args": {"device": "cpu"}}, per_job=4) == GpuAsk(0, "cpu")


def test_an_any_gpu_job_asks_for_the_gpu_it_was_placed_for():
    placed = {"resources": {"gpus": 1}}
    assert cluster_ask(train(**placed), per_job=0) == GpuAsk(1, "0")
    assert cluster_ask(train(**placed), per_job=2) == GpuAsk(2, "0,1")  # the worker's per job
    onnx = {"kind": "export", "args": {"format": "onnx"}, **placed}
    assert cluster_ask(onnx, per_job=1) == GpuAsk(0, None)  # ultralytics exports it on the CPU: no GPU held


def test_an_export_asks_for_a_gpu_only_when_its_format_needs_one():
    assert cluster_ask({"kind": "export", "args": {"format": "onnx"}}, per_job=1) == GpuAsk(0, None)
    assert cluster_ask({"kind": "export", "args": {"format": "engine"}}, per_job=1) == GpuAsk(1, "0")
    # an export's spec says device=cpu unless the user named GPUs: TensorRT gets one all the same
    cpu = {"device": "cpu"}
    assert cluster_ask({"kind": "export", "args": {"format": "engine", **cpu}}, 1) == GpuAsk(1, "0")
    assert cluster_ask({"kind": "export", "args": {"format": "engine", "device": "0,1"}}, 1) == GpuAsk(2, "0,1")
    assert cluster_ask({"kind": "export", "args": {"format": "onnx", **cpu}}, 1) == GpuAsk(0, "cpu")
    assert cluster_ask({"kind": "export", "args": {"format": "onnx", "device": "3"}}, 1) == GpuAsk(1, "0")


def test_a_device_that_is_none_or_too_many_gpus_is_refused():
    with pytest.raises(ValueError, match="not a device"):
        named_gpus("gpu0")
    with pytest.raises(ValueError, match="64"):
        cluster_ask(train(",".join(str(i) for i in range(65))), per_job=1)


@pytest.mark.parametrize("gres, gpus, want", [
    (None, 1, "gpu:1"), (None, 0, None), ("gpu:1", 2, "gpu:2"), ("gpu:a100:4", 1, "gpu:a100:1"),
    ("gpu:a100:2,shard:1", 0, "shard:1"), ("shard:1", 2, "gpu:2,shard:1"), ("gpu", 3, "gpu:3"),
    ("gpu:1080ti:1", 2, "gpu:1080ti:2"), ("gpu:3g.20gb:1", 1, "gpu:3g.20gb:1"), ("gpu:1080ti", 0, None),
])
def test_slurm_gres_carries_the_count_and_keeps_the_gpu_type(gres, gpus, want):
    assert gres_with(gres, gpus) == want
    assert gres_count(want) == gpus


def test_a_gres_with_a_type_counts_its_gpus_whatever_the_types_name():
    assert gres_count("gpu:1080ti:2") == 2 and gres_count("gpu:3g.20gb:1,gpu:a100:2") == 3
    assert gres_count("gpu:a100") == 1 and gres_count("shard:4") == 0 and gres_count(None) == 0


def test_a_placement_on_a_cluster_asks_for_one_gpu_and_names_none():
    from datetime import datetime

    job = JobRecord("j1", "train", "Queued", "any-gpu", {"kind": "train", "args": {"device": ""}}, None, None, "",
                    None, None, None, None, None, None, None, datetime.now(), None, None)

    class Worker:
        kind, options = "ray", {}

    spec = placed_spec(job, Worker(), FreeGpu(None, None))
    assert spec["resources"] == {"gpus": 1} and spec["args"]["device"] == ""


def test_a_cluster_workers_device_is_checked_as_a_count_not_against_its_login_node(lib):
    from app.jobs.workers import WorkerStore

    store = WorkerStore(lib)
    store.add("hpc", "127.0.0.1", 22, "root", kind="slurm")  # never tested: its login node's GPUs unknown
    store.add("box", "127.0.0.1", 22, "root")
    hpc, box = devices_on(lib, "hpc"), devices_on(lib, "box")
    assert check_device("0,1", hpc) is None and check_device("cuda:3", hpc) is None and check_device("cpu", hpc) is None
    assert "64 at most" in check_device(",".join(str(i) for i in range(65)), hpc)
    assert "no Apple MPS" in check_device("mps", hpc)
    assert "never tested" in check_device("0", box)  # an SSH box's GPUs are its own, known once tested
    assert default_device(lib, "hpc") == "" and default_device(lib, "box") == "cpu"
    assert default_device(lib, "any-gpu") == "" and default_device(lib, None) == "cpu"


def test_ray_options_per_job_are_checked_and_kept_short():
    assert RayOptions.from_json({"dashboard_port": 8265}).to_json() == {"dashboard_port": 8265}  # defaults unsaid
    opts = RayOptions.from_json({"dashboard_port": 9000, "gpus": 2, "cpus": 4, "memory": "16g"})
    assert opts.to_json() == {"dashboard_port": 9000, "gpus": 2, "cpus": 4.0, "memory": "16G"}
    assert opts.memory_bytes == 16 * 2**30 and RayOptions.from_json({"memory": "512"}).memory_bytes == 512 * 2**20
    assert RayOptions.from_json({"gpus": 0}).gpus == 0
    for bad, says in (({"gpus": 99}, "0-64"), ({"gpus": "two"}, "not a number"), ({"cpus": 0}, "more than 0"),
                      ({"memory": "lots"}, "e.g. 16G"), ({"memory": "0G"}, "e.g. 16G")):
        with pytest.raises(RayOptionError, match=says):
            RayOptions.from_json(bad)


def test_a_slurm_jobs_gres_and_device_follow_what_it_asks():
    from app.jobs.slurm_batch import SlurmOptions, batch_script, slurm_job

    typed = SlurmOptions.from_json({"partition": "gpu", "gres": "gpu:a100:1"})
    options, spec = slurm_job({"id": "j", "kind": "train", "args": {"device": "2,3"}}, typed)
    assert options.gres == "gpu:a100:2" and spec["args"]["device"] == "0,1"
    assert "#SBATCH --gres=gpu:a100:2" in batch_script("j", "/d", "python -m remote_agent run spec.json", options)
    options, spec = slurm_job({"id": "j", "kind": "train", "args": {"device": "cpu"}}, typed)
    assert options.gres is None and "--gres" not in batch_script("j", "/d", "run", options)  # no GPU held idle
    options, spec = slurm_job({"id": "j", "kind": "train", "args": {"device": ""}}, typed)
    assert options.gres == "gpu:a100:1" and spec["args"]["device"] == "0"  # the worker's GPUs per job
    options, spec = slurm_job({"id": "j", "kind": "train", "args": {}}, SlurmOptions())
    assert options.gres is None and spec["args"]["device"] == "cpu"  # no gres, no GPU: the CPU, said plainly


def ray_transport(lib, name="rc", **options):  # type: ignore[no-untyped-def]
    """A Ray worker's transport as the app builds it (nothing is connected until a job needs it)."""
    from app.jobs.ray_transport import RayTransport
    from app.jobs.workers import Layout, WorkerStore

    store = WorkerStore(lib)
    store.add(name, "127.0.0.1", 22, "root", python="/opt/my python/bin/python3", kind="ray",
              options={"dashboard_port": 8265, **options})
    transport = RayTransport(store, store.get(name))
    transport.link.layout = Layout("/home/me")
    return transport


def test_what_a_ray_job_asks_for_reaches_submit_job_and_is_said_on_its_row(lib):
    from app.jobs.ray_transport import asked

    transport = ray_transport(lib, cpus=2, memory="4G")
    resources = transport.resources(GpuAsk(1, "0"))
    assert resources == {"entrypoint_num_gpus": 1, "entrypoint_num_cpus": 2.0, "entrypoint_memory": 4 * 2**30}
    assert asked(resources) == "1 GPU, 2 CPUs, 4 GiB"
    assert ray_transport(lib, "plain").resources(GpuAsk(0, "cpu")) == {}  # asks for nothing: the head runs it
    assert asked({}) is None


def test_the_ray_entrypoint_runs_no_agent_when_cancelled_or_when_its_folder_is_not_on_the_node(lib, tmp_path):
    import subprocess

    from app.jobs.ray_transport import NEVER_START

    transport = ray_transport(lib)
    job_dir = tmp_path / "it's a job"  # a quote and a space: the shell must see one path
    job_dir.mkdir()
    (job_dir / "spec.json").write_text("{}")
    (job_dir / NEVER_START).write_text("cancelled")
    line = transport.entrypoint(str(job_dir))
    ran = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=30)
    assert ran.returncode == 0 and not (job_dir / "events.jsonl").exists() and not (job_dir / "agent.err").exists()
    (job_dir / NEVER_START).unlink()
    (job_dir / "spec.json").unlink()  # as on a node without the shared home
    ran = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=30)
    assert ran.returncode == 3 and f"the job's folder {job_dir} is not on this Ray node" in ran.stderr
    assert not (job_dir / "events.jsonl").exists()
    assert "'/opt/my python/bin/python3'" in line  # an interpreter path with a space stays one word


def test_a_tensorrt_export_can_go_to_a_cluster_whose_login_node_has_no_gpu(lib):
    from app.exporters.registry import get
    from app.jobs.workers import PROTOCOL_VERSION, WorkerStore, app_version, worker_can_export

    store = WorkerStore(lib)
    info = {"protocol": PROTOCOL_VERSION, "python": "3.11.9", "torch": "2.14.1", "ultralytics": app_version("ultralytics"),
            "cuda_devices": [], "cuda_note": "no NVIDIA driver", "packages": {"tensorrt": "10.9"}}
    for name, kind in (("hpc", "slurm"), ("box", "ssh")):
        store.add(name, "127.0.0.1", 22, "root", kind=kind)
        store.update(name, info=info)
    args: dict = {}
    assert worker_can_export(store.get("hpc"), get("engine"), args) is None and args["device"] == "0"  # one GPU
    assert "has none" in worker_can_export(store.get("box"), get("engine"), {})  # a box's GPUs are its own
