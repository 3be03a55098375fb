"""Screenshot of the Export tab with INT8 exports: their accuracy check beside the FP32 verdict.

Run under Xvfb: xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_int8.py OUT_PNG HOME
(YOLODESK_THEME=dark and QT_SCALE_FACTOR=1.5 for the other variants; the same HOME is exported into once).
The tests' tiny detect checkpoint, real exports at 64 px: ONNX FP32, ONNX INT8 (within the 1-point tolerance)
and OpenVINO INT8 checked with a tolerance of -1 point, so that its row shows how an inaccurate INT8 is marked.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _prepare(lib) -> str:  # noqa: ANN001
    from app.exporters.export_job import EXPORT
    from app.jobs.manager import JobManager
    from common import fixture_checkpoints

    found = lib.models()
    if found:  # exported into by an earlier variant's run
        return found[0].id
    model = lib.import_checkpoint(fixture_checkpoints() / "detect_yolo26n.pt").model
    manager = JobManager(lib)
    for fmt, args, tolerance in (("onnx", {"imgsz": 64}, 1.0), ("onnx", {"imgsz": 64, "quantize": 8}, 1.0),
                                 ("openvino", {"imgsz": 64, "quantize": 8}, -1.0)):
        job = EXPORT.submit(manager, model.id, fmt, args, int8_tolerance=tolerance)
        print(fmt, args, manager.wait(job.id, 600).status, flush=True)
    manager.shutdown()
    return model.id


def main(out: Path, home: Path) -> None:
    os.environ["YOLODESK_HOME"] = str(home)
    from app.offline import apply_offline

    apply_offline(home)
    from app.exporters.registry import FORMATS
    from app.library.repository import Library
    from docs.shoot_common import open_window, save_png

    lib = Library(home)
    model_id = _prepare(lib)
    session = open_window(lib)
    page = session.window.model_page
    session.window.open_model(model_id, tab="export")  # read on the library thread, then shown on Export
    session.until(lambda: page.tabs.currentWidget() is page.export, 60)
    tab = page.export
    row = [f.argument for f in FORMATS].index("openvino")
    session.until(lambda: tab.table.item(row, 4) is not None and "INT8" in tab.table.item(row, 4).text(), 60)
    tab.table.selectRow(row)
    session.pump(1)
    out.parent.mkdir(parents=True, exist_ok=True)
    print("saved", out, save_png(session.window, out), "bytes")
    session.window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
