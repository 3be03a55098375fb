"""A real single-node Slurm cluster (munged + slurmctld + slurmd, Debian's slurm-wlm), started for the session.

The daemons run in the foreground as children of this process, with a generated ``slurm.conf`` (free ports,
state and spool folders, its own munge socket and key) in a temporary folder named by ``SLURM_CONF``; the
node has CPUs=2 whatever this machine has. Jobs reach it the way they reach a real cluster: a worker of kind
slurm is the SSH host of the login node (here this machine, through the real ``sshd`` fixture), and
``SLURM_CONF`` travels as the worker's documented ``--env`` option.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.remote.conftest import _no_user_ssh_config, _tidy_worker_home, sshd, workers  # noqa: F401 (fixtures)

DAEMONS = ("/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd")
CLIENTS = ("sbatch", "squeue", "scontrol", "scancel", "sinfo")


@dataclass(frozen=True)
class Cluster:
    """The running cluster: its config, folder and the environment its commands need."""

    root: Path
    conf: Path
    node: str
    processes: tuple[subprocess.Popen[bytes], ...]

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A Slurm client command (sbatch, squeue, …) against this cluster."""
        return subprocess.run(list(args), env=self.env, capture_output=True, text=True, timeout=60, check=check)

    def state(self, slurm_id: str) -> str:
        """JobState from ``scontrol show job`` (which remembers finished jobs for MinJobAge)."""
        out = self.run("scontrol", "show", "job", slurm_id).stdout
        return out.split("JobState=")[1].split()[0]


def _require_slurm() -> None:
    if os.geteuid() != 0:
        pytest.skip("the Slurm tests start munged/slurmctld/slurmd, which needs root")
    missing = [p for p in DAEMONS if not os.path.exists(p)] + [c for c in CLIENTS if not shutil.which(c)]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"Slurm missing ({', '.join(missing)}): packaging/bootstrap.sh test installs slurm-wlm munge")
        if not shutil.which("apt-get"):
            pytest.skip("Slurm is not installed and apt-get is unavailable to install it (slurm-wlm munge)")
        pytest.skip(f"Slurm is not installed ({', '.join(missing)}): apt-get install -y slurm-wlm munge")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(root: Path, node: str, munge_socket: Path) -> str:
    ctld, slurmd = _free_port(), _free_port()
    return f"""ClusterName=yolodesk-test
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={ctld}
SlurmdPort={slurmd}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={munge_socket}
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/run/slurmctld.pid
SlurmdPidFile={root}/run/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
GresTypes=gpu
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=600
KillWait=5
InactiveLimit=0
NodeName={node} NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


def _steps() -> set[int]:
    """The slurmstepd processes running now (slurmd starts one per job step, detached from itself)."""
    return {p.pid for p in psutil.process_iter(["name", "status"])
            if p.info["name"] == "slurmstepd" and p.info["status"] != psutil.STATUS_ZOMBIE}


def _stop(processes: list[subprocess.Popen[bytes]], env: dict[str, str], steps_before: set[int]) -> None:
    subprocess.run(["scancel", "--user", "root"], env=env, capture_output=True, timeout=30)  # what a test left
    deadline = time.monotonic() + 15
    while _steps() - steps_before and time.monotonic() < deadline:
        time.sleep(0.2)
    family: list[psutil.Process] = [psutil.Process(pid) for pid in _steps() - steps_before]
    for proc in processes:
        try:
            family += [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    for proc in reversed(processes):  # slurmd, slurmctld, then munged (the others authenticate through it)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    for p in family:  # a slurmstepd a daemon left behind
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=5)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """munged + slurmctld + slurmd with a generated config, the node idle; all of them stopped afterwards."""
    _require_slurm()
    with start_cluster() as box:
        yield box


@contextmanager
def start_cluster() -> Iterator[Cluster]:
    """The cluster, running until the block ends (the fixture's, and bench/cluster_overhead.py's)."""
    # munged wants every folder up to its socket searchable by all: a pytest tmp folder (0700) is not
    root = Path(tempfile.mkdtemp(prefix="yolodesk-slurm-", dir="/tmp"))
    root.chmod(0o755)
    for sub in ("state", "spool", "log", "run", "munge", "munge-run"):
        (root / sub).mkdir()
    key = root / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    shutil.chown(root / "munge", "munge", "munge")
    shutil.chown(root / "munge-run", "munge", "munge")
    shutil.chown(key, "munge", "munge")
    (root / "munge").chmod(0o700)
    key.chmod(0o400)
    munge_socket = root / "munge-run" / "munge.socket"
    node = socket.gethostname().split(".")[0]
    conf = root / "slurm.conf"
    conf.write_text(_config(root, node, munge_socket))
    # one gres gpu for the any-GPU placement to find idle: a count-only gres is refused by this slurmd ("gres/gpu
    # count reported lower than configured (0 < 1)"), so its device file is /dev/null — Slurm schedules and counts it
    # (CUDA_VISIBLE_DEVICES=0 in the job), torch sees no CUDA there and the agent runs on the CPU
    (root / "gres.conf").write_text(f"NodeName={node} Name=gpu File=/dev/null\n")
    env = {**os.environ, "SLURM_CONF": str(conf)}
    started: list[subprocess.Popen[bytes]] = []
    steps_before = _steps()
    log = open(root / "log" / "daemons.out", "ab")
    try:
        started.append(subprocess.Popen(
            ["runuser", "-u", "munge", "--", "/usr/sbin/munged", "--foreground", f"--socket={munge_socket}",
             f"--key-file={key}", f"--pid-file={root}/munge-run/munged.pid", f"--log-file={root}/munge/munged.log",
             f"--seed-file={root}/munge/munged.seed"], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True))
        _wait(lambda: munge_socket.exists(), 15, "munged did not create its socket")
        for daemon in ("/usr/sbin/slurmctld", "/usr/sbin/slurmd"):
            started.append(subprocess.Popen([daemon, "-D"], env=env, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=log, start_new_session=True))
        box = Cluster(root, conf, node, tuple(started))
        _wait(lambda: box.run("sinfo", "-h", "-o", "%T", check=False).stdout.strip() == "idle", 60,
              "the Slurm node did not become idle", root)
        yield box
    finally:
        _stop(started, env, steps_before)
        log.close()

        def left() -> list[psutil.Process]:  # (a squeue some mirror ran just now, over SSH, ends within seconds)
            named = [p for p in psutil.process_iter(["cmdline"]) if str(root) in " ".join(p.info["cmdline"] or [])]
            return named + [psutil.Process(pid) for pid in _steps() - steps_before if psutil.pid_exists(pid)]

        deadline = time.monotonic() + 10
        while left() and time.monotonic() < deadline:
            time.sleep(0.2)
        remaining = left()
        shutil.rmtree(root, ignore_errors=True)
        assert not remaining, f"Slurm processes left after teardown: {remaining}"


def _wait(ready, timeout: float, what: str, root: Path | None = None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    logs = "".join(f"\n--- {p.name}\n{p.read_text()[-1500:]}" for p in (root / "log").glob("*")) if root else ""
    raise RuntimeError(what + logs)


@pytest.fixture
def slurm_box(workers, sshd, cluster: Cluster):  # noqa: F811 (the imported fixtures)
    """Worker ``hpc`` of kind slurm: the login node is this machine through the test sshd; SLURM_CONF as ``--env``."""
    from app.jobs.workers import probe

    workers.add("hpc", "127.0.0.1", sshd.port, "root", str(sshd.client_key), python=sys.executable, kind="slurm",
                options={"env": {"SLURM_CONF": str(cluster.conf)}, "time": "00:10:00"})
    result = probe(workers, "hpc", trust=sshd.fingerprint())
    assert result.ok, result.problems
    return workers.get("hpc")


@pytest.fixture(scope="session")
def ray_head():
    """A real Ray head (token auth, dashboard on 127.0.0.1 only) for the session; stopped, nothing left, afterwards."""
    from tests.cluster.ray_head import ray_missing, start_ray_head

    missing = ray_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing + " (packaging/bootstrap.sh test installs the test extra, which has it)")
        pytest.skip(missing)
    with start_ray_head() as head:
        yield head


@pytest.fixture
def ray_box(workers, sshd, ray_head):  # noqa: F811 (the imported fixtures)
    """Worker ``raycluster`` of kind ray: the head is this machine through the test sshd; its token kept as a secret."""
    from app.jobs.ray_options import store_ray_token
    from app.jobs.workers import probe

    workers.add("raycluster", "127.0.0.1", sshd.port, "root", str(sshd.client_key), python=sys.executable,
                kind="ray", options={"dashboard_port": ray_head.dashboard_port})
    store_ray_token(workers.lib.home, "raycluster", ray_head.token)
    result = probe(workers, "raycluster", trust=sshd.fingerprint())
    assert result.ok, result.problems
    return workers.get("raycluster")
