"""Screenshots of the Datasets page and two data set pages (a detect and a pose set).

Run under Xvfb: ``xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_datasets.py OUT [SUFFIX]``; set
``QT_SCALE_FACTOR=1.5`` or ``YOLODESK_THEME=dark`` for the other variants (SUFFIX names them: ``_150``, ``_dark``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, suffix: str = "") -> None:
    from docs.shoot_common import fresh_home, open_window, save_png

    home = fresh_home()
    from app.demo_data import write_dataset
    from app.library.datasets import add_dataset
    from app.library.repository import Library

    data = home.parent / f"{home.name}-data"
    lib = Library(home)
    detect = add_dataset(lib, write_dataset(data / "shapes-detect", "detect", 40, 12, size=160), "shapes").info
    pose = add_dataset(lib, write_dataset(data / "shapes-pose", "pose", 24, 8, size=160, seed=3), "corners").info
    add_dataset(lib, write_dataset(data / "shapes-classify", "classify", 20, 10, size=96), "shape classes")
    for i, name in enumerate(("yolo26n-shapes", "yolo26s-shapes")):
        lib.create_pending_model(lib.default_project_id, name, task="detect", dataset_id=detect.record.id,
                                 dataset_ref=detect.record.location, status="Ready" if i else "Incomplete")
    broken = write_dataset(data / "street", "segment", 12, 4, size=96, seed=5)
    (broken.parent / "labels" / "train" / "0003.txt").write_text("4 0.1 0.1 0.2 0.1 0.2 0.2\n")
    (broken.parent / "labels" / "train" / "0005.txt").unlink()
    (broken.parent / "images" / "val" / "0009.jpg").write_bytes(b"\xff\xd8 truncated")
    session = open_window(lib)
    pump, until, w = session.pump, session.until, session.window
    out.mkdir(parents=True, exist_ok=True)
    pump(1)
    page = w.show_page("datasets")
    done: list[object] = []
    page.scanFinished.connect(done.append)
    page.add_path(broken)
    until(lambda: bool(done))
    w.ops.wait_idle()
    pump(0.5)
    print("saved", save_png(w, out / f"datasets{suffix}.png"))
    ready: list[bool] = []
    page.dataset_page.gridReady.connect(lambda: ready.append(True))
    for info, name in ((detect, "dataset"), (pose, "dataset_pose")):
        ready.clear()
        page.open_dataset(info.record.id)
        until(lambda: bool(ready))
        w.ops.wait_idle()
        pump(0.5)
        print("saved", save_png(w, out / f"{name}{suffix}.png"))
    w.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "")
