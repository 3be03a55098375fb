"""The process that holds a worker endpoint's tunnel: ``python -m app.deploy.tunnel_process HOME ENDPOINT_ID``.

Detached (as the agent is), so the local URL outlives the ``yolodesk deploy`` that printed it. It writes the
local port, its pid and the local URL to the endpoint's row, reconnects when the SSH connection drops, and
exits once the endpoint's job has ended (or on SIGTERM).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from app.deploy.store import EndpointStore
from app.deploy.tunnel import Tunnel
from app.jobs.store import ACTIVE, JobStore
from app.jobs.workers import WorkerStore
from app.library.repository import Library, LibraryError

CHECK_S = 1.0


def hold(home: Path, endpoint_id: str) -> int:
    """Forward until the endpoint's job ends; returns the exit code."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    lib = Library(home)
    store = EndpointStore(lib)
    workers = WorkerStore(lib)
    tunnel: Tunnel | None = None
    try:
        ep = store.get(endpoint_id)
        while not stop.is_set():
            if ep.job_id is None or JobStore(lib).get(ep.job_id).status not in ACTIVE:
                return 0  # the endpoint stopped: nothing to carry any more
            transport = tunnel.client.get_transport() if tunnel else None
            if tunnel is None or transport is None or not transport.is_active():
                if tunnel is not None:
                    tunnel.close()
                client = workers.client(workers.get(ep.worker))
                tunnel = Tunnel(client, ep.port, local_port=ep.tunnel_port or 0)
                ep = store.set(ep.id, tunnel_port=tunnel.local_port, tunnel_pid=os.getpid(), url=tunnel.local_url)
            stop.wait(CHECK_S)
            ep = store.get(endpoint_id)
        return 0
    except (LibraryError, OSError, Exception) as e:  # noqa: BLE001 — one line in the tunnel's log, not a traceback
        print(f"tunnel of endpoint {endpoint_id}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        if tunnel is not None:
            tunnel.close()
            tunnel.client.close()
        try:
            if store.get(endpoint_id).tunnel_pid == os.getpid():
                store.set(endpoint_id, tunnel_pid=None)
        except LibraryError:
            pass  # the endpoint was deleted meanwhile
        lib.close()


if __name__ == "__main__":
    sys.exit(hold(Path(sys.argv[1]), sys.argv[2]))
