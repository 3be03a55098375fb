"""Workers: rows in the library, and what YOLO Desk puts on them (the agent, an offline config, a venv).

On a worker everything lives under ``~/.yolodesk-agent/``::

    agent-<digest>/remote_agent/…   the agent's code, one folder per version (uploaded over SFTP)
    ultralytics/Ultralytics/         settings (sync off) and the fonts: ultralytics stays offline there too
    cache/<sha256><suffix>           uploaded files (weights), by content: uploaded once, reused
    data/<digest>/                   uploaded data sets, by content manifest
    jobs/<job-id>/                   spec.json, events.jsonl, agent.err, agent.pid, the run's outputs
                                     (deleted once the job completed or was cancelled and is in the library)
    venv/                            packages YOLO Desk installed on request (the worker's own through a .pth)
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
import posixpath
import re
import shlex
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import paramiko
from sqlalchemy import select

from app.exporters.toolchains import toolchain_for
from app.jobs.secrets import forget_secret, secret_for
from app.jobs.ssh import Endpoint, KnownHosts, SSHError, connect, resolve, run
from app.library.orm import Job, Worker, aware, utcnow
from app.library.repository import Library, LibraryError
from app.offline import FONT_NAMES, offline_env, ultralytics_settings
from app.paths import REPO_ROOT, resources_dir
from remote_agent import PROTOCOL_VERSION

BASE = ".yolodesk-agent"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_PYTHON = (3, 10)
WORKER_KINDS = ("ssh", "slurm", "ray")  # a worker's kind names its transport (app.jobs.manager.JobManager.transport_for)


@dataclass(frozen=True)
class WorkerRecord:
    id: int
    name: str
    host: str
    port: int | None
    user: str | None
    key_path: str | None
    auth: str
    python: str
    info: dict[str, Any] | None
    tested_at: datetime | None
    last_error: str | None
    kind: str = "ssh"  # ssh | slurm | ray (the transport that runs its jobs)
    options: dict[str, Any] | None = None  # the kind's settings (a Slurm worker's partition, account, env…)

    def endpoint(self) -> Endpoint:
        return resolve(self.host, self.port, self.user, self.key_path)

    @property
    def gpus(self) -> list[dict[str, Any]]:
        return list((self.info or {}).get("cuda_devices") or [])

    def has_package(self, dist: str) -> bool:
        pk = (self.info or {}).get("packages") or {}
        return bool(pk.get(dist) or pk.get(f"{dist}-cu12"))

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["tested_at"] = self.tested_at.isoformat() if self.tested_at else None
        return d


def _record(w: Worker) -> WorkerRecord:
    return WorkerRecord(w.id, w.name, w.host, w.port, w.user, w.key_path, w.auth, w.python, w.info,
                        aware(w.tested_at), w.last_error, w.kind or "ssh", dict(w.options or {}) or None)


class WorkerStore:
    def __init__(self, lib: Library) -> None:
        self.lib = lib

    @property
    def known_hosts(self) -> KnownHosts:
        return KnownHosts(self.lib.home / "known_hosts")

    def list(self) -> list[WorkerRecord]:
        with self.lib.read() as s:
            return [_record(w) for w in s.scalars(select(Worker).order_by(Worker.name))]

    def get(self, name: str) -> WorkerRecord:
        with self.lib.read() as s:
            w = s.scalars(select(Worker).where(Worker.name == name)).first()
            if w is None:
                known = ", ".join(x.name for x in s.scalars(select(Worker))) or "none yet"
                raise LibraryError(f"no worker named {name!r} (workers: {known})")
            return _record(w)

    def add(self, name: str, host: str, port: int | None = None, user: str | None = None,
            key_path: str | None = None, python: str = "python3", auth: str | None = None, kind: str = "ssh",
            options: dict[str, Any] | None = None) -> WorkerRecord:
        if not NAME_RE.match(name) or name == "local" or name.startswith("any-gpu"):
            raise LibraryError(f"{name!r} is not a usable worker name (letters, digits, . _ -; not 'local' or 'any-gpu')")
        if not host.strip():
            raise LibraryError("give the worker's host (an alias of ~/.ssh/config, a host name or an address)")
        if key_path and not Path(key_path).expanduser().is_file():
            raise LibraryError(f"the key file {key_path} does not exist")
        if kind not in WORKER_KINDS:
            raise LibraryError(f"{kind!r} is not a worker kind (one of: {', '.join(WORKER_KINDS)})")
        with self.lib.write() as s:
            if s.scalars(select(Worker).where(Worker.name == name)).first() is not None:
                raise LibraryError(f"a worker named {name!r} already exists")
            w = Worker(name=name, host=host.strip(), port=port, user=user or None,
                       key_path=str(Path(key_path).expanduser()) if key_path else None,
                       auth=auth or ("key" if key_path else "agent"), python=python or "python3", kind=kind,
                       options=options or None)
            s.add(w)
            s.flush()
            return _record(w)

    def update(self, name: str, **fields: Any) -> WorkerRecord:
        with self.lib.write() as s:
            w = s.scalars(select(Worker).where(Worker.name == name)).first()
            if w is None:
                raise LibraryError(f"no worker named {name!r}")
            for k, v in fields.items():
                setattr(w, k, v)
            s.flush()
            return _record(w)

    def remove(self, name: str) -> None:
        with self.lib.write() as s:
            w = s.scalars(select(Worker).where(Worker.name == name)).first()
            if w is None:
                raise LibraryError(f"no worker named {name!r}")
            busy = s.scalars(select(Job).where(Job.worker == name, Job.status.in_(("Queued", "Starting", "Running"))))
            if busy.first() is not None:
                raise LibraryError(f"{name} still has jobs queued or running: cancel them first")
            s.delete(w)
        forget_secret(name)  # a password or passphrase it had goes with it
        from app.jobs.ray_options import forget_ray_token

        forget_ray_token(self.lib.home, name)  # and a Ray worker's Jobs API token

    def client(self, worker: WorkerRecord, trust: str | None = None, timeout: float | None = None) -> paramiko.SSHClient:
        secret = secret_for(worker.name) if worker.auth == "password" else None
        limit = {} if timeout is None else {"timeout": timeout}  # a placement probe waits seconds, not the default
        return connect(worker.endpoint(), self.known_hosts, trust=trust,
                       password=secret if worker.auth == "password" and not worker.key_path else None,
                       passphrase=secret if worker.key_path else None, **limit)


# ---------------------------------------------------------------- the agent on the worker
def agent_files() -> list[Path]:
    pkg = REPO_ROOT / "remote_agent"
    return sorted(p for p in pkg.glob("*.py"))


def agent_digest() -> str:
    h = hashlib.sha256()
    for p in agent_files():
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:12]


@dataclass(frozen=True)
class Layout:
    """Paths on the worker (POSIX)."""

    home: str
    digest: str = field(default_factory=lambda: agent_digest())  # the agent installed: fixed, though files change

    @property
    def base(self) -> str:
        return posixpath.join(self.home, BASE)

    @property
    def agent(self) -> str:
        return posixpath.join(self.base, f"agent-{self.digest}")

    @property
    def config_root(self) -> str:
        return posixpath.join(self.base, "ultralytics")

    def cache(self, name: str) -> str:
        return posixpath.join(self.base, "cache", name)

    def data(self, digest: str) -> str:
        return posixpath.join(self.base, "data", digest)

    def job(self, job_id: str) -> str:
        return posixpath.join(self.base, "jobs", job_id)

    @property
    def venv(self) -> str:
        return posixpath.join(self.base, "venv")


def sftp_makedirs(sftp: paramiko.SFTPClient, path: str) -> None:
    parts = PurePosixPath(path).parts
    cur = ""
    for part in parts:
        cur = posixpath.join(cur, part) if cur else part
        try:
            sftp.stat(cur)
        except FileNotFoundError:
            try:
                sftp.mkdir(cur)
            except OSError:
                sftp.stat(cur)  # made meanwhile by another connection: fine; else raise


def sftp_write(sftp: paramiko.SFTPClient, path: str, data: bytes) -> None:
    """Write a small file atomically (temp name, then POSIX rename)."""
    tmp = f"{path}.tmp-{hashlib.sha256(data).hexdigest()[:8]}"
    with sftp.open(tmp, "wb") as f:
        f.write(data)
    sftp.posix_rename(tmp, path)


def remote_env(layout: Layout) -> dict[str, str]:
    env = offline_env(Path(layout.base))
    env["YOLO_CONFIG_DIR"] = layout.config_root
    env.pop("YODESK_HOME", None)
    env.pop("YOLODESK_HOME", None)
    env["PYTHONPATH"] = layout.agent
    return env


def agent_command(worker: WorkerRecord, layout: Layout, *args: str) -> str:
    """The shell command that runs ``python -m remote_agent ARGS`` on the worker, offline."""
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in remote_env(layout).items() if k != "PYTHONPATH")
    # the agent first, then whatever the worker's login sets (a box may keep packages on its PYTHONPATH)
    env += f' PYTHONPATH={shlex.quote(layout.agent)}"${{PYTHONPATH:+:$PYTHONPATH}}"'
    python = worker.python if worker.python.startswith("/") else shlex.quote(worker.python)
    return f"cd {shlex.quote(layout.base)} && env {env} {python} -m remote_agent " + " ".join(map(shlex.quote, args))


def install_agent(client: paramiko.SSHClient) -> Layout:
    """Put this version of the agent, the offline config and the fonts on the worker (once per version)."""
    sftp = client.open_sftp()
    try:
        layout = Layout(sftp.normalize("."))
        marker = posixpath.join(layout.agent, ".complete")
        try:
            sftp.stat(marker)
            return layout
        except FileNotFoundError:
            pass
        pkg = posixpath.join(layout.agent, "remote_agent")
        sftp_makedirs(sftp, pkg)
        for p in agent_files():
            sftp_write(sftp, posixpath.join(pkg, p.name), p.read_bytes())
        cfg = posixpath.join(layout.config_root, "Ultralytics")
        sftp_makedirs(sftp, cfg)
        font = (resources_dir() / "fonts" / "DejaVuSans.ttf").read_bytes()
        for name in FONT_NAMES:
            sftp_write(sftp, posixpath.join(cfg, name), font)
        settings = ultralytics_settings(Path(layout.base))
        sftp_write(sftp, posixpath.join(cfg, "settings.json"), json.dumps(settings, indent=2).encode())
        intel = posixpath.join(layout.home, "intel")
        sftp_makedirs(sftp, intel)
        try:
            sftp.stat(posixpath.join(intel, "openvino_telemetry"))
        except FileNotFoundError:
            sftp_write(sftp, posixpath.join(intel, "openvino_telemetry"), b"0")
        for sub in ("cache", "data", "jobs"):
            sftp_makedirs(sftp, posixpath.join(layout.base, sub))
        sftp_write(sftp, marker, b"")
        return layout
    finally:
        sftp.close()


@dataclass(frozen=True)
class Probe:
    info: dict[str, Any] | None
    problems: list[str]  # what stops jobs from running there, each with what to do
    notes: list[str]  # what works but limits it (no CUDA, no TensorRT)

    @property
    def ok(self) -> bool:
        return not self.problems


def app_version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def judge(info: dict[str, Any]) -> tuple[list[str], list[str]]:
    """What is missing on a worker, precisely, from its agent's ``info``."""
    problems, notes = [], []
    major = str(info.get("protocol", "0")).split(".")[0]
    if major != PROTOCOL_VERSION.split(".")[0]:
        problems.append(f"the worker's agent speaks protocol {info.get('protocol')}, this app {PROTOCOL_VERSION}: "
                        "test the worker again to update it")
    py = tuple(int(x) for x in str(info.get("python", "0.0")).split(".")[:2])
    if py < MIN_PYTHON:
        problems.append(f"Python {info.get('python')} at {info.get('executable')} is too old: the agent needs "
                        f"Python ≥ {MIN_PYTHON[0]}.{MIN_PYTHON[1]}; set the worker's interpreter to a newer one")
    want = app_version("ultralytics")
    if not info.get("torch"):
        problems.append(f"torch is not installed for {info.get('executable')}: install torch (with CUDA) there, "
                        "or set the worker's interpreter to the environment that has it")
    if not info.get("ultralytics"):
        problems.append(f"ultralytics is not installed for {info.get('executable')}: it needs ultralytics=={want} "
                        "(Install packages does it in a virtual environment on the worker)")
    elif want and info.get("ultralytics") != want:
        problems.append(f"ultralytics {info.get('ultralytics')} on the worker, {want} in this app: install "
                        f"ultralytics=={want} there so jobs behave the same (Install packages does it)")
    if info.get("torch") and not info.get("cuda_devices"):
        notes.append(f"no CUDA GPU ({info.get('cuda_note') or 'none found'}): jobs run on its CPU")
    packages = info.get("packages") or {}
    if not (packages.get("tensorrt") or packages.get("tensorrt-cu12")):
        notes.append("tensorrt is not installed: no TensorRT exports there (pip install tensorrt on the worker)")
    return problems, notes


def probe(store: WorkerStore, name: str, trust: str | None = None) -> Probe:
    """Connect (host key checked), install the agent, run ``info --json``; store the outcome on the row."""
    worker = store.get(name)
    try:
        client = store.client(worker, trust=trust)
    except SSHError as e:
        store.update(name, last_error=str(e), tested_at=utcnow())
        raise
    try:
        layout = install_agent(client)
        code, out, err = run(client, agent_command(worker, layout, "info", "--json"), timeout=180)
    finally:
        client.close()
    if code != 0:
        text = (err or out).strip().splitlines()
        why = text[-1] if text else f"exit status {code}"
        if code == 127 or "No such file" in (err or "") or "not found" in (err or ""):
            why = f"{worker.python!r} was not found on the worker: {why}"
        problem = f"the agent could not run with {worker.python}: {why}"
        store.update(name, last_error=problem, tested_at=utcnow())
        return Probe(None, [problem], [])
    info = json.loads(out.strip().splitlines()[-1])
    problems, notes = judge(info)
    store.update(name, info=info, last_error="; ".join(problems) or None, tested_at=utcnow())
    return Probe(info, problems, notes)


def install_packages(store: WorkerStore, name: str, on_output: Callable[[str], None],
                     packages: list[str] | None = None) -> WorkerRecord:
    """Create ``~/.yolodesk-agent/venv`` on the worker and pip install what jobs need there; the worker's
    interpreter becomes that venv's. The venv also sees every package of the worker's current interpreter
    (its CUDA torch, even when that interpreter is itself a venv or conda env) through a ``.pth`` file; what is
    installed in the venv comes first. Output is streamed to ``on_output``."""
    worker = store.get(name)
    want = packages or [f"ultralytics=={app_version('ultralytics')}", "psutil", "onnx", "onnxslim"]
    client = store.client(worker)
    try:
        layout = install_agent(client)
        venv_py = posixpath.join(layout.venv, "bin", "python")
        py = worker.python if worker.python.startswith("/") else shlex.quote(worker.python)
        probe_paths = "import json, site, sys; print(json.dumps([site.getsitepackages(), '%d.%d' % sys.version_info[:2]]))"
        code, out, err = run(client, f"{py} -c {shlex.quote(probe_paths)}")
        if code != 0:
            raise LibraryError(f"{worker.python} did not run on {name}: {(err or out).strip()[-300:]}")
        base_paths, version = json.loads(out.strip().splitlines()[-1])
        code, out, err = run(client, f"{py} -m venv {shlex.quote(layout.venv)}", timeout=300)
        if code != 0:
            raise LibraryError(f"could not create a virtual environment on {name}: {(err or out).strip()[-300:]} "
                               "(Debian/Ubuntu: apt install python3-venv)")
        sftp = client.open_sftp()
        try:
            site_dir = posixpath.join(layout.venv, "lib", f"python{version}", "site-packages")
            sftp_write(sftp, posixpath.join(site_dir, "yolodesk-base.pth"), ("\n".join(base_paths) + "\n").encode())
        finally:
            sftp.close()
        on_output(f"$ pip install {' '.join(want)}\n")
        chan = client.get_transport().open_session()  # type: ignore[union-attr]
        chan.set_combine_stderr(True)
        chan.exec_command(f"{shlex.quote(venv_py)} -m pip install --progress-bar off " + " ".join(map(shlex.quote, want)))
        while True:
            data = chan.recv(4096)
            if not data:
                break
            on_output(data.decode("utf-8", errors="replace"))
        code = chan.recv_exit_status()
    finally:
        client.close()
    if code != 0:
        raise LibraryError(f"installing {', '.join(want)} on {name} failed (exit status {code}); see the output")
    return store.update(name, python=venv_py)


def worker_can_export(worker: WorkerRecord, fmt: Any, args: dict[str, Any]) -> str | None:
    """Why ``worker`` cannot build ``fmt`` (from its last test), or None. Sets ``args['device']`` for it."""
    if worker.info is None:
        return f"{worker.name} has not been tested yet: test it (Workers, or yolodesk workers test {worker.name})"
    problems, _ = judge(worker.info)
    if problems:
        return f"{worker.name}: {problems[0]}"
    gpus = worker.gpus
    device = args.get("device")
    cluster = worker.kind in ("slurm", "ray")  # its GPUs are on the nodes it picks, not on the host we test
    if fmt.needs_gpu:
        if not gpus and not cluster:
            return f"{fmt.name} needs an NVIDIA GPU and {worker.name} has none ({worker.info.get('cuda_note')})"
        if not worker.has_package("tensorrt"):
            return f"{fmt.name} needs tensorrt on {worker.name}: pip install tensorrt there (with its interpreter)"
        if device in (None, "", "cpu"):
            args["device"] = "0" if cluster else str(gpus[0]["index"])  # a cluster: one GPU (app.jobs.cluster_gpus)
    elif device in (None, ""):
        args["device"] = "cpu"
    tc = toolchain_for(fmt.argument)
    if tc is not None and not worker.has_package(tc.package):  # toolchains live on this machine, not on workers
        return (f"{fmt.name} needs {tc.package} in {worker.name}'s Python, which it lacks: pip install {tc.package} "
                f"there (Test the worker again afterwards), or export on this machine with the '{tc.name}' toolchain")
    return None


def gpu_choices(workers: list[WorkerRecord]) -> list[tuple[str, str, str]]:
    """(worker, device, label) for every GPU of every tested worker, e.g. ("gpu-box", "0", "gpu-box, GPU 0 (…)")."""
    out = []
    for w in workers:
        for g in w.gpus:
            mem = f", {g['memory'] / 2**30:.0f} GiB" if g.get("memory") else ""
            out.append((w.name, str(g["index"]), f"{w.name}, GPU {g['index']} ({g.get('name', 'GPU')}{mem})"))
    return out
