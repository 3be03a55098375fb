"""A real OpenSSH server on 127.0.0.1 for the tests: temporary host key, authorized key and config."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path, kind: str = "ed25519") -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path)], check=True)
    return path


@dataclass
class Sshd:
    root: Path
    port: int
    client_key: Path
    host_key: Path
    proc: subprocess.Popen[bytes] | None = None
    extra: tuple[str, ...] = ()  # more sshd_config lines

    @property
    def config(self) -> Path:
        return self.root / "sshd_config"

    def write_config(self) -> None:
        self.config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.host_key}",
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PubkeyAuthentication yes", "PermitRootLogin prohibit-password",
            "StrictModes no", "UsePAM no", f"PidFile {self.root / 'sshd.pid'}", "LogLevel ERROR",
            "MaxSessions 50", "MaxStartups 50", "ClientAliveInterval 0", "Subsystem sftp internal-sftp",
            "AcceptEnv LANG LC_*", *self.extra, "",
        ]))

    def start(self) -> None:
        self.write_config()
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.config)], stdout=subprocess.DEVNULL,
                                     stderr=open(self.root / "sshd.log", "ab"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.root / 'sshd.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start listening")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def session_pids(self) -> list[int]:
        """The per-connection sshd processes (children of the listener): killing them cuts the links."""
        assert self.proc is not None
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def cut_connections(self) -> int:
        pids = self.session_pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)

    def vanish(self) -> None:
        """The host goes away: the listener stops and every live session is cut."""
        sessions = self.session_pids()
        self.stop()
        for pid in sessions:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def new_host_key(self) -> None:
        """Restart with a different host key (what a reinstalled — or impersonated — host looks like)."""
        self.stop()
        for p in (self.host_key, self.host_key.with_suffix(".pub")):
            p.unlink(missing_ok=True)
        keygen(self.host_key)
        self.start()

    def fingerprint(self) -> str:
        out = subprocess.run(["ssh-keygen", "-lf", str(self.host_key) + ".pub"], capture_output=True, text=True,
                             check=True)
        return out.stdout.split()[1]


def start_sshd(root: Path, extra: tuple[str, ...] = ()) -> Sshd:
    root.mkdir(parents=True, exist_ok=True)
    host_key = keygen(root / "host_ed25519_key")
    client_key = keygen(root / "client_ed25519")
    shutil.copyfile(str(client_key) + ".pub", root / "authorized_keys")
    server = Sshd(root, free_port(), client_key, host_key, extra=extra)
    server.start()
    return server
