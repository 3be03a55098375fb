"""Import 50 distinct checkpoints into a fresh library: one at a time, and three at once as the window does.

Distinct files are made from a fixture checkpoint by changing its zip comment (a new sha256, still valid).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import fixture_checkpoints, save

from app.library.repository import Library

N = 50


def make_files(src: Path, folder: Path) -> list[Path]:
    files = []
    for i in range(N):
        dst = folder / f"model_{i:02d}.pt"
        shutil.copyfile(src, dst)
        with zipfile.ZipFile(dst, "a") as z:
            z.comment = f"copy {i}".encode()
        files.append(dst)
    return files


def run(files: list[Path], workers: int) -> float:
    home = Path(tempfile.mkdtemp(prefix="yd-bench-"))
    lib = Library(home)
    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda f: lib.import_checkpoint(f), files))
    dt = time.perf_counter() - t
    assert all(r.state == "added" for r in results), [r.message for r in results if r.state != "added"][:3]
    assert len(lib.models()) == N
    lib.close()
    shutil.rmtree(home)
    return dt


def main() -> None:
    src = fixture_checkpoints() / "detect_yolo26n.pt"
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(src, Path(tmp))
        rows = []
        for workers in (1, 3):
            dt = run(files, workers)
            rows.append({"files": N, "workers": workers, "seconds": round(dt, 2), "per_file_ms": round(dt / N * 1000, 1),
                         "file_mb": round(src.stat().st_size / 1e6, 1)})
            print(f"{N} × {src.stat().st_size / 1e6:.1f} MB, {workers} at once: {dt:.2f} s ({dt / N * 1000:.0f} ms per file)")
    save("import_many", rows)


if __name__ == "__main__":
    main()
