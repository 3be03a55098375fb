"""An SSH local port forward to a worker's endpoint: the worker's port stays on its loopback, this machine
listens on 127.0.0.1 and carries each connection over the worker's SSH connection (a ``direct-tcpip`` channel).
"""

from __future__ import annotations

import select
import socket
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import paramiko

CHUNK = 64 * 1024


class TunnelError(Exception):
    """The forward could not be opened (the SSH connection is gone, or the worker refused the channel)."""


class Tunnel:
    """``127.0.0.1:<local_port>`` here → ``remote_host:remote_port`` as seen from the worker, over ``client``."""

    def __init__(self, client: paramiko.SSHClient, remote_port: int, remote_host: str = "127.0.0.1",
                 local_port: int = 0) -> None:
        self.client, self.remote = client, (remote_host, remote_port)
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._server.bind(("127.0.0.1", local_port))
        except OSError as e:
            self._server.close()
            raise TunnelError(f"cannot listen on 127.0.0.1:{local_port} here ({e.strerror or e})") from e
        self._server.listen(128)
        self.local_port: int = self._server.getsockname()[1]
        self._closed = threading.Event()
        self._accepting = threading.Thread(target=self._accept, name=f"tunnel-{self.local_port}", daemon=True)
        self._accepting.start()

    @property
    def local_url(self) -> str:
        """The URL to use on this machine."""
        return f"http://127.0.0.1:{self.local_port}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, peer = self._server.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._carry, args=(conn, peer), daemon=True).start()

    def _carry(self, conn: socket.socket, peer: tuple[str, int]) -> None:
        transport = self.client.get_transport()
        try:
            if transport is None or not transport.is_active():
                raise TunnelError("the SSH connection to the worker is closed")
            chan = transport.open_channel("direct-tcpip", self.remote, peer, timeout=10)
        except Exception:  # noqa: BLE001 — the worker refused or the link dropped: this connection ends
            conn.close()
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small answers would wait for a delayed ACK
        try:
            while not self._closed.is_set():
                ready, _, _ = select.select([conn, chan], [], [], 0.5)
                if conn in ready:
                    data = conn.recv(CHUNK)
                    if not data:
                        break
                    chan.sendall(data)
                if chan in ready:
                    data = chan.recv(CHUNK)
                    if not data:
                        break
                    conn.sendall(data)
        except OSError:
            pass  # either side went away
        finally:
            try:
                chan.close()
            except EOFError:
                pass  # the SSH connection closed first (the link's owner shut down): the channel is gone with it
            conn.close()

    def close(self) -> None:
        """Stop listening and end the connections being carried (the SSH connection is the caller's)."""
        self._closed.set()
        try:
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone would not
        except OSError:
            pass
        self._server.close()
        self._accepting.join(2)
