"""Upload of a 100 MB file through the SSH transport (resumable, sha256-checked) vs `scp` over loopback,
and the time to reconnect after the link is cut. Starts its own sshd on 127.0.0.1 (as the tests do).

Usage: python bench/ssh_transfer.py [--mb 100] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import save

from app.jobs.ssh_transport import Link, file_sha256, upload_file
from app.jobs.workers import WorkerStore, probe
from app.library.repository import Library
from tests.remote.sshd import start_sshd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="yd-bench-ssh-"))
    os.environ["YOLODESK_SSH_CONFIG"] = str(root / "none")
    sshd = start_sshd(root / "sshd")
    lib = Library(root / "home")
    store = WorkerStore(lib)
    store.add("box", "127.0.0.1", sshd.port, "root" if os.geteuid() == 0 else os.environ["USER"],
              str(sshd.client_key), python=sys.executable)
    probe(store, "box", trust=sshd.fingerprint())
    src = root / "blob.bin"
    with open(src, "wb") as f:
        for _ in range(a.mb):
            f.write(os.urandom(1 << 20))
    size = src.stat().st_size
    sha = file_sha256(src)
    link = Link(store, store.get("box"))
    link.client()
    ours, scp, ours_send_only = [], [], []
    for i in range(a.runs):
        target = link.layout.cache(f"bench-{i}.bin")
        t0 = time.perf_counter()
        sent_at = [0.0]
        upload_file(link, src, target, sha, progress=lambda d, t, s=sent_at: s.__setitem__(0, time.perf_counter()))
        ours.append(time.perf_counter() - t0)
        ours_send_only.append(sent_at[0] - t0)
        link.sftp().remove(target)
        dest = root / "scp-dest"
        t0 = time.perf_counter()
        subprocess.run(["scp", "-q", "-P", str(sshd.port), "-i", str(sshd.client_key), "-o", "BatchMode=yes",
                        "-o", f"UserKnownHostsFile={lib.home / 'known_hosts'}", "-o", "StrictHostKeyChecking=yes",
                        str(src), f"127.0.0.1:{dest}"], check=True)
        scp.append(time.perf_counter() - t0)
        dest.unlink()
        print(f"run {i + 1}: transport {size / ours[-1] / 1e6:.0f} MB/s (sending {size / ours_send_only[-1] / 1e6:.0f} "
              f"MB/s, then the sha256 check there), scp {size / scp[-1] / 1e6:.0f} MB/s")
    # Reconnection: cut every link (kill the per-connection sshd processes), then time until a command runs again.
    recon = []
    for _ in range(a.runs):
        link.run("alive", "/nonexistent")
        sshd.cut_connections()
        t0 = time.perf_counter()
        link.retrying(lambda: link.run("alive", "/nonexistent"), 60)
        recon.append(time.perf_counter() - t0)
    mo, ms = statistics.median(ours), statistics.median(scp)
    result = {
        "file_mb": a.mb, "runs": a.runs,
        "transport_s": ours, "transport_send_only_s": ours_send_only, "scp_s": scp,
        "transport_mb_s": round(size / mo / 1e6, 1), "scp_mb_s": round(size / ms / 1e6, 1),
        "ratio_vs_scp": round(ms / mo, 2), "reconnect_s": [round(x, 3) for x in recon],
        "reconnect_median_s": round(statistics.median(recon), 3),
    }
    print(f"\nupload {a.mb} MB: transport {result['transport_mb_s']} MB/s vs scp {result['scp_mb_s']} MB/s "
          f"→ {result['ratio_vs_scp']}× (target ≥ 0.8×); reconnect after a cut: {result['reconnect_median_s']} s")
    save("ssh_transfer", result)
    link.close()
    sshd.stop()


if __name__ == "__main__":
    main()
