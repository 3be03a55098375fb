"""A Ray worker's settings (``workers.options``) and its Jobs API token, kept like the other worker secrets.

The token is what the head's dashboard asks for with ``RAY_AUTH_MODE=token`` (a request without it gets 401).
It lives in the OS keyring; where no keyring works, in a 0600 file under the library home (said out loud, as
the endpoints' tokens are) — never in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.deploy.tokens import write_private
from app.jobs.secrets import NoKeyring, keyring_module

SERVICE = "yolodesk-ray-token"
DEFAULT_DASHBOARD_PORT = 8265
FILE_NOTE = "no OS keyring is available here: the Ray token is kept in {path} (mode 0600, readable by this user only)"


class RayOptionError(ValueError):
    """A Ray worker option that cannot be right."""


@dataclass(frozen=True)
class RayOptions:
    """Where the head's dashboard (the Jobs API) listens, as seen on the head itself (its loopback)."""

    dashboard_port: int = DEFAULT_DASHBOARD_PORT

    def to_json(self) -> dict[str, Any]:
        """The ``workers.options`` JSON."""
        return {"dashboard_port": self.dashboard_port}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> RayOptions:
        """From ``workers.options``, checked."""
        raw = (data or {}).get("dashboard_port")
        try:
            port = int(raw) if raw not in (None, "") else DEFAULT_DASHBOARD_PORT
        except (TypeError, ValueError) as e:
            raise RayOptionError(f"--dashboard-port {raw!r} is not a port number") from e
        if not 1 <= port <= 65535:
            raise RayOptionError(f"--dashboard-port {port} is not a port (1-65535)")
        return cls(port)


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
