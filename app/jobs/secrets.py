"""Worker passwords and key passphrases: only ever in the OS keyring (never the database, never a file)."""

from __future__ import annotations

from types import ModuleType

SERVICE = "yolodesk-worker"


class NoKeyring(Exception):
    """No usable OS keyring here: password/passphrase auth is not available (use a key or the ssh-agent)."""


def keyring_module() -> ModuleType:
    """The keyring module with a usable backend; raises :class:`NoKeyring` when there is none."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError as e:
        raise NoKeyring("the keyring package is not installed; use a key file or the ssh-agent") from e
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        raise NoKeyring("no OS keyring is available on this machine (no Secret Service / KWallet / Keychain); "
                        "use a key file without a passphrase or the ssh-agent")
    return keyring


def store_secret(worker: str, secret: str) -> None:
    """Keep a worker's password or passphrase in the OS keyring (raises :class:`NoKeyring` without one)."""
    keyring_module().set_password(SERVICE, worker, secret)


def secret_for(worker: str) -> str | None:
    """The worker's stored secret; None when none is stored or no keyring is usable."""
    try:
        return keyring_module().get_password(SERVICE, worker)
    except NoKeyring:
        return None


def forget_secret(worker: str) -> None:
    """Remove the worker's stored secret, if any (nothing to do without a keyring)."""
    try:
        keyring_module().delete_password(SERVICE, worker)
    except Exception:  # noqa: BLE001 — nothing stored, or no keyring: nothing to forget
        pass
