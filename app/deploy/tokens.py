"""Endpoint bearer tokens: in the OS keyring, or — where no keyring works — in a 0600 file under the library home.

The fallback is said out loud (:data:`FILE_NOTE`): a file readable by this user only is weaker than a keyring,
but an endpoint without a token would be worse, and the token is needed again at every start.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from types import ModuleType

from app.jobs.secrets import NoKeyring

SERVICE = "yolodesk-endpoint"
FILE_NOTE = ("no OS keyring is available here: the token is kept in {path} (mode 0600, readable by this user only)")


def _keyring() -> ModuleType:
    """The keyring module with a working backend, as worker secrets use it; :class:`NoKeyring` otherwise."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError as e:
        raise NoKeyring("the keyring package is not installed") from e
    if isinstance(keyring.get_keyring(), fail.Keyring):
        raise NoKeyring("no OS keyring is available on this machine")
    return keyring


def new_token() -> str:
    """A random 32-byte bearer token (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


def _token_file(home: Path, endpoint_id: str) -> Path:
    return home / "endpoint-tokens" / endpoint_id


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner may read (created 0600, never briefly wider)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def store_token(home: Path, endpoint_id: str, token: str) -> tuple[str, str | None]:
    """Keep the token; returns ("keyring", None) or ("file", a note saying where it is and why)."""
    try:
        _keyring().set_password(SERVICE, endpoint_id, token)
        return "keyring", None
    except NoKeyring:
        path = _token_file(home, endpoint_id)
        write_private(path, token)
        return "file", FILE_NOTE.format(path=path)


def token_for(home: Path, endpoint_id: str, where: str) -> str | None:
    """The endpoint's token from where :func:`store_token` put it; None when it is not there."""
    if where == "keyring":
        try:
            stored = _keyring().get_password(SERVICE, endpoint_id)
            return str(stored) if stored else None
        except NoKeyring:
            return None
    try:
        return _token_file(home, endpoint_id).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def forget_token(home: Path, endpoint_id: str) -> None:
    """Remove the endpoint's token from the keyring and the file fallback (whichever holds it)."""
    try:
        _keyring().delete_password(SERVICE, endpoint_id)
    except Exception:  # noqa: BLE001 — nothing stored, or no keyring: nothing to forget there
        pass
    _token_file(home, endpoint_id).unlink(missing_ok=True)
