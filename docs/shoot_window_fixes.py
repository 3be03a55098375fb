"""Screenshots of the newcomer-review fixes: the Datasets page's empty state and the per-class validation table
with long class names in a narrow window.

Run under Xvfb: ``xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_window_fixes.py OUT [SUFFIX]``; set
``QT_SCALE_FACTOR=1.5`` or ``YOLODESK_THEME=dark`` for the other variants (SUFFIX names them: ``_150``, ``_dark``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, suffix: str = "") -> None:
    """Save datasets_empty<suffix>.png and class_table<suffix>.png under ``out``."""
    from docs.shoot_common import fresh_home, open_window, save_png

    from app.library.repository import Library
    from app.views.validation.class_table import ClassTable

    session = open_window(Library(fresh_home()))
    pump, w = session.pump, session.window
    out.mkdir(parents=True, exist_ok=True)
    pump(1)
    w.show_page("datasets")
    w.ops.wait_idle()
    pump(0.5)
    print("saved", save_png(w, out / f"datasets_empty{suffix}.png"))
    figures = {"precision": 0.812, "recall": 0.655, "f1": 0.725, "map50": 0.771, "map50_95": 0.498,
               "images": 120, "instances": 431}
    table = ClassTable()
    table.show_capture({"task": "detect", "per_class": {
        n: figures for n in ("square", "disc", "squirrel_monkey_juvenile", "traffic light",
                             "a_class_name_far_longer_than_any_table_should_make_room_for")}})
    table.resize(560, 240)
    table.show()
    pump(0.5)
    print("saved", save_png(table, out / f"class_table{suffix}.png"))
    table.close()
    w.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "")
