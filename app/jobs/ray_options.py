"""A Ray worker's settings (``workers.options``) and its Jobs API token, kept like the other worker secrets.

The token is what the head's dashboard asks for with ``RAY_AUTH_MODE=token`` (a request without it gets 401).
It lives in the OS keyring; where no keyring works, in a 0600 file under the library home (said out loud, as
the endpoints' tokens are) — never in the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.deploy.tokens import write_private
from app.jobs.secrets import NoKeyring, keyring_module

SERVICE = "yolodesk-ray-token"
DEFAULT_DASHBOARD_PORT = 8265
DEFAULT_GPUS = 1  # what a job that names no device asks of a cluster with GPUs
MEMORY_RE = re.compile(r"^(\d+)([KMGT]?)$")  # Slurm's --mem forms (no unit: megabytes), so one habit fits both
MEMORY_UNITS = {"K": 2**10, "": 2**20, "M": 2**20, "G": 2**30, "T": 2**40}
FILE_NOTE = "no OS keyring is available here: the Ray token is kept in {path} (mode 0600, readable by this user only)"


class RayOptionError(ValueError):
    """A Ray worker option that cannot be right."""


@dataclass(frozen=True)
class RayOptions:
    """Where the head's dashboard (the Jobs API) listens, as seen on the head itself (its loopback), and what each
    job asks Ray for: ``gpus`` when it names no device, ``cpus`` and ``memory`` (``16G``) always when set.

    A job asking for nothing runs on the head (Ray's rule); one asking for any resource runs on a node Ray picks,
    which must see the agent's folder under the SSH user's home (a home shared by the nodes, as on most clusters).
    """

    dashboard_port: int = DEFAULT_DASHBOARD_PORT
    gpus: int = DEFAULT_GPUS
    cpus: float | None = None
    memory: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``workers.options`` JSON (defaults and empty fields left out, the port always)."""
        out: dict[str, Any] = {"dashboard_port": self.dashboard_port}
        if self.gpus != DEFAULT_GPUS:
            out["gpus"] = self.gpus
        out.update({k: v for k, v in (("cpus", self.cpus), ("memory", self.memory)) if v is not None})
        return out

    @property
    def memory_bytes(self) -> int | None:
        """``memory`` in bytes, as Ray's ``entrypoint_memory`` takes it."""
        if self.memory is None:
            return None
        m = MEMORY_RE.match(self.memory)
        assert m is not None  # checked by from_json
        return int(m.group(1)) * MEMORY_UNITS[m.group(2)]

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> RayOptions:
        """From ``workers.options``, checked."""
        d = data or {}
        raw = d.get("dashboard_port")
        try:
            port = int(raw) if raw not in (None, "") else DEFAULT_DASHBOARD_PORT
        except (TypeError, ValueError) as e:
            raise RayOptionError(f"--dashboard-port {raw!r} is not a port number") from e
        if not 1 <= port <= 65535:
            raise RayOptionError(f"--dashboard-port {port} is not a port (1-65535)")
        gpus = _number(d.get("gpus"), "--gpus", int)
        cpus = _number(d.get("cpus"), "--cpus", float)
        if gpus is not None and not 0 <= gpus <= 64:
            raise RayOptionError(f"--gpus {gpus} is not a number of GPUs per job (0-64)")
        if cpus is not None and not 0 < cpus <= 4096:
            raise RayOptionError(f"--cpus {cpus:g} is not a number of CPUs per job (more than 0)")
        memory = str(d["memory"]).strip().upper() if d.get("memory") not in (None, "") else None
        if memory is not None and (not MEMORY_RE.match(memory) or int(MEMORY_RE.match(memory).group(1)) == 0):
            raise RayOptionError(f"--mem {d['memory']!r} is not a memory per job (e.g. 16G; no unit: megabytes)")
        return cls(port, DEFAULT_GPUS if gpus is None else gpus, cpus, memory)


def _number(raw: Any, flag: str, kind: type) -> Any:
    if raw in (None, ""):
        return None
    try:
        return kind(raw)
    except (TypeError, ValueError) as e:
        raise RayOptionError(f"{flag} {raw!r} is not a number") from e


def _token_file(home: Path, worker: str) -> Path:
    return home / "worker-secrets" / f"{worker}.ray-token"


def store_ray_token(home: Path, worker: str, token: str) -> str | None:
    """Keep the worker's Ray token; None when the keyring took it, else a note saying which file holds it."""
    if not token.strip() or not token.strip().isprintable():
        raise RayOptionError("the Ray token is empty or not printable")
    try:
        keyring_module().set_password(SERVICE, worker, token.strip())
        return None
    except NoKeyring:
        path = _token_file(home, worker)
        write_private(path, token.strip())
        return FILE_NOTE.format(path=path)


def ray_token(home: Path, worker: str) -> str | None:
    """The worker's Ray token (keyring first, then the file fallback); None when none is kept."""
    try:
        stored = keyring_module().get_password(SERVICE, worker)
        if stored:
            return str(stored)
    except NoKeyring:
        pass
    try:
        return _token_file(home, worker).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def forget_ray_token(home: Path, worker: str) -> None:
    """Remove the worker's Ray token wherever it is kept (nothing to do when none is)."""
    try:
        keyring_module().delete_password(SERVICE, worker)
    except Exception:  # noqa: BLE001 — nothing stored, or no keyring: nothing to forget there
        pass
    _token_file(home, worker).unlink(missing_ok=True)
