"""SSH connections to workers: ``~/.ssh/config``, host keys (trust on first use, never silently replaced), auth.

Host keys come from the system's and the user's ``known_hosts`` and from YOLO Desk's own file in
the library home (where keys the user trusted in the app are written). A host whose key is in
none of them is refused with :class:`HostKeyUnknown`, which carries the SHA-256 fingerprint as
``ssh-keygen -lf`` prints it, until the user trusts it; a key different from the one on record is
refused with :class:`HostKeyChanged` — never replaced. There is no ``AutoAddPolicy`` here.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import shlex
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko

from app.jobs.known_hosts import KnownHostsFile, names_host, parse_line, read_known_hosts

KEEPALIVE_S = 15
CONNECT_TIMEOUT_S = 10.0
SYSTEM_KNOWN_HOSTS = ("/etc/ssh/ssh_known_hosts",)


class SSHError(Exception):
    """A worker could not be reached or logged into; the message says why and what to do."""


class HostKeyUnknown(SSHError):
    def __init__(self, host: str, key: paramiko.PKey) -> None:
        self.host, self.key = host, key
        self.fingerprint = fingerprint(key)
        super().__init__(f"{host} is not a known host: its {key.get_name()} key has the fingerprint "
                         f"{self.fingerprint}. Check it on the worker (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) "
                         "and trust it if it matches.")


class HostKeyRevoked(SSHError):
    def __init__(self, host: str, key: paramiko.PKey, where: str) -> None:
        self.host, self.fingerprint, self.where = host, fingerprint(key), where
        super().__init__(f"REFUSED: the worker's host key is revoked in {where} ({host} presents the "
                         f"{key.get_name()} key {self.fingerprint}, listed there under @revoked). YOLO Desk will "
                         "not connect, whatever else trusts that key.")


class HostKeyChanged(SSHError):
    def __init__(self, host: str, got: paramiko.PKey, expected: paramiko.PKey, where: str) -> None:
        self.host, self.fingerprint, self.expected = host, fingerprint(got), fingerprint(expected)
        super().__init__(
            f"REFUSED: the host key of {host} has changed (it presents {self.fingerprint}; {where} records "
            f"{self.expected}). Someone may be intercepting the connection, or the worker was reinstalled. "
            f"YOLO Desk will not connect. If you know the worker was reinstalled, remove the old key "
            f"(ssh-keygen -R {shlex.quote(host)} -f {shlex.quote(where)}) and test the worker again.")


def fingerprint(key: paramiko.PKey) -> str:
    """``SHA256:…`` exactly as ``ssh-keygen -lf`` prints it."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def known_host_name(hostname: str, port: int) -> str:
    return hostname if port == 22 else f"[{hostname}]:{port}"


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to log in, after ``~/.ssh/config`` was applied."""

    hostname: str
    port: int = 22
    user: str | None = None
    key_files: tuple[str, ...] = ()
    proxy_jump: str | None = None
    proxy_command: str | None = None
    options: dict[str, Any] = field(default_factory=dict, compare=False)

    def describe(self) -> str:
        who = f"{self.user}@" if self.user else ""
        return f"{who}{self.hostname}:{self.port}"


def ssh_config_path() -> Path:
    return Path(os.environ.get("YOLODESK_SSH_CONFIG") or Path.home() / ".ssh" / "config")


def resolve(host: str, port: int | None = None, user: str | None = None, key_path: str | None = None,
            config_path: Path | None = None) -> Endpoint:
    """Apply ``~/.ssh/config`` (HostName, User, Port, IdentityFile, ProxyJump, ProxyCommand) to ``host``;
    values given explicitly win."""
    cfg_file = config_path or ssh_config_path()
    opts: dict[str, Any] = {}
    if cfg_file.is_file():
        opts = paramiko.SSHConfig.from_path(str(cfg_file)).lookup(host)
    hostname = opts.get("hostname", host)
    keys = [key_path] if key_path else [os.path.expanduser(k) for k in opts.get("identityfile", [])]
    keys = [k for k in keys if key_path or os.path.exists(k)]
    return Endpoint(
        hostname=hostname, port=int(port or opts.get("port", 22)), user=user or opts.get("user"),
        key_files=tuple(str(Path(k).expanduser()) for k in keys), proxy_jump=opts.get("proxyjump"),
        proxy_command=opts.get("proxycommand"), options=dict(opts),
    )


class KnownHosts:
    """The host keys YOLO Desk checks against: system + user ``known_hosts`` (read only) and its own file.

    Each file is read line by line (:mod:`app.jobs.known_hosts`): a key under ``@revoked`` in any of
    them is refused for every host, ``@cert-authority`` and malformed lines are skipped.
    """

    def __init__(self, app_file: Path, user_file: Path | None = None) -> None:
        self.app_file = app_file
        self.user_file = user_file if user_file is not None else Path.home() / ".ssh" / "known_hosts"

    def sources(self) -> list[KnownHostsFile]:
        """What each file says, system first, the app's own last."""
        files = [Path(p) for p in SYSTEM_KNOWN_HOSTS] + [self.user_file, self.app_file]
        return [read_known_hosts(p) for p in files]

    def check(self, name: str, key: paramiko.PKey) -> str:
        """``"known"`` or ``"unknown"``; raises :class:`HostKeyRevoked` for a revoked key (checked first, so
        nothing trusts it) and :class:`HostKeyChanged` when a source records only other keys of its type."""
        sources = self.sources()
        for src in sources:
            if src.is_revoked(key):
                raise HostKeyRevoked(name, key, str(src.path))
        found = False
        for src in sources:
            same_type = [k for k in src.keys_for(name) if k.get_name() == key.get_name()]
            if not same_type:
                continue
            if all(k.asbytes() != key.asbytes() for k in same_type):
                raise HostKeyChanged(name, key, same_type[0], str(src.path))
            found = True
        return "known" if found else "unknown"

    def trust(self, name: str, key: paramiko.PKey) -> None:
        """Record ``key`` for ``name`` in the app's file (atomically); never replaces a different key.

        The line is appended to the file's text, so markers and comments already there are kept."""
        if self.check(name, key) == "known":
            return
        try:
            text = self.app_file.read_text(encoding="utf-8", errors="surrogateescape")
        except FileNotFoundError:
            text = ""
        if text and not text.endswith("\n"):
            text += "\n"
        self._write(text + f"{name} {key.get_name()} {key.get_base64()}\n")

    def forget(self, name: str) -> bool:
        """Remove ``name``'s plain lines from the app's own file (the user's and system files are theirs to edit)."""
        try:
            lines = self.app_file.read_text(encoding="utf-8", errors="surrogateescape").splitlines(keepends=True)
        except FileNotFoundError:
            return False
        kept = []
        for line in lines:
            try:
                marker, patterns, _key = parse_line(line.strip())
            except ValueError:
                kept.append(line)
                continue
            if marker is None and names_host(patterns, name):
                continue
            kept.append(line)
        if len(kept) == len(lines):
            return False
        self._write("".join(kept))
        return True

    def _write(self, text: str) -> None:
        self.app_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.app_file.with_name(f".{self.app_file.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8", errors="surrogateescape")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.app_file)


class _FastTransport(paramiko.Transport):
    """AES-GCM first (authenticated encryption in one pass: ~1.5× the throughput of AES-CTR + HMAC in paramiko);
    the rest of paramiko's list after it, CBC modes and 3DES dropped."""

    _preferred_ciphers = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr")


class _Verify(paramiko.MissingHostKeyPolicy):
    """Called by paramiko for a key it does not know: we check every source ourselves."""

    def __init__(self, known: KnownHosts, trust: str | None) -> None:
        self.known, self.trust_fp = known, trust

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        if self.known.check(hostname, key) == "known":
            return
        if self.trust_fp and self.trust_fp.strip() == fingerprint(key):
            self.known.trust(hostname, key)
            return
        raise HostKeyUnknown(hostname, key)


def connect_failure(error: BaseException, timeout: float) -> str:
    """What a failed connection attempt means, in words: "connection refused", "timed out", "no route to host",
    "host name not found (DNS)", … (paramiko's own text reads "[Errno None] Unable to connect" for most)."""
    if isinstance(error, paramiko.ssh_exception.NoValidConnectionsError) and error.errors:
        error = next(iter(error.errors.values()))  # every address failed: the first one's reason stands for all
    # paramiko wraps a banner read that timed out in an SSHException: the cause is in its context
    cause = error.__context__ if isinstance(error, paramiko.SSHException) and error.__context__ else error
    if isinstance(cause, socket.gaierror):
        return "host name not found (DNS)"
    # paramiko's handshake wait ends at the same timeout and then tries to log in on a dead link
    handshake_unfinished = isinstance(error, paramiko.SSHException) and str(error) == "No existing session"
    if isinstance(cause, (socket.timeout, TimeoutError)) or handshake_unfinished:
        return (f"timed out: no SSH answer within {timeout:.0f} s (is the host up, the port right, and is it an "
                "SSH server?)")
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused (nothing listens on that port: is sshd running and the port right?)"
    if isinstance(cause, OSError) and cause.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "no route to host (is the host up and on this network?)"
    if isinstance(cause, ConnectionResetError):
        return "connection reset by the host"
    if isinstance(cause, EOFError) or "protocol banner" in str(error):
        return "the host closed the connection before saying hello (is that port an SSH server?)"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror[:1].lower() + cause.strerror[1:]
    return str(error) or type(error).__name__


def connect(ep: Endpoint, known: KnownHosts, *, trust: str | None = None, password: str | None = None,
            passphrase: str | None = None, timeout: float = CONNECT_TIMEOUT_S, _depth: int = 0) -> paramiko.SSHClient:
    """A logged-in client with keepalives on; raises :class:`SSHError` (or a host-key subclass) saying why not."""
    sock: Any = None
    jump_client = None
    if ep.proxy_jump and _depth < 3:
        first = ep.proxy_jump.split(",")[0].strip()
        juser, _, jhost = first.rpartition("@")
        jhost, _, jport = jhost.partition(":")
        jump_client = connect(resolve(jhost, int(jport) if jport else None, juser or None), known,
                              timeout=timeout, _depth=_depth + 1)
        try:
            sock = jump_client.get_transport().open_channel(  # type: ignore[union-attr]
                "direct-tcpip", (ep.hostname, ep.port), ("127.0.0.1", 0), timeout=timeout)
        except (paramiko.SSHException, OSError) as e:
            jump_client.close()
            raise SSHError(f"the jump host {first} could not reach {ep.hostname}:{ep.port}: {e}") from e
    elif ep.proxy_command:
        sock = paramiko.ProxyCommand(ep.proxy_command)
    client = paramiko.SSHClient()
    # The system and user files are checked by _Verify (which also sees a *changed* key there as refused).
    client.set_missing_host_key_policy(_Verify(known, trust))
    try:
        client.connect(
            ep.hostname, port=ep.port, username=ep.user or None, key_filename=list(ep.key_files) or None,
            password=password, passphrase=passphrase, allow_agent=True, look_for_keys=not ep.key_files,
            timeout=timeout, banner_timeout=timeout, auth_timeout=timeout, sock=sock, transport_factory=_FastTransport,
        )
    except (HostKeyUnknown, HostKeyChanged, HostKeyRevoked):
        client.close()
        raise
    except paramiko.AuthenticationException as e:
        client.close()
        how = f"with the key {', '.join(ep.key_files)}" if ep.key_files else "with the ssh-agent or ~/.ssh/id_* keys"
        raise SSHError(f"{ep.describe()} refused the login {how}: {e}. Check the user name and that the public "
                       "key is in the worker's ~/.ssh/authorized_keys.") from e
    except (OSError, paramiko.SSHException, EOFError) as e:
        transport = client.get_transport()
        # a banner that never came can surface as a later "No existing session": the transport kept the real cause
        first = transport.get_exception() if transport is not None else None
        client.close()
        raise SSHError(f"cannot connect to {ep.describe()}: {connect_failure(first or e, timeout)}") from e
    transport = client.get_transport()
    assert transport is not None
    transport.set_keepalive(KEEPALIVE_S)
    if jump_client is not None:
        client._yolodesk_jump = jump_client  # type: ignore[attr-defined]  # keep the jump host's link open
    return client


def run(client: paramiko.SSHClient, command: str, timeout: float | None = 60.0) -> tuple[int, str, str]:
    """Run ``command`` on the worker; (exit status, stdout, stderr). Raises :class:`SSHError` if the link fails."""
    try:
        _stdin, stdout, stderr = client.exec_command(command, timeout=timeout)
        _stdin.close()
        out = stdout.read().decode("utf-8", errors="replace")
        err = stderr.read().decode("utf-8", errors="replace")
        status = stdout.channel.recv_exit_status()
    except (OSError, paramiko.SSHException, EOFError) as e:
        raise SSHError(f"the connection to the worker failed: {e}") from e
    if status == -1:  # the channel closed without an exit status: the link dropped mid-command
        raise SSHError("the connection to the worker dropped while a command ran")
    return status, out, err
