"""Screenshots of the Export tab (run under Xvfb: DISPLAY=:99 python docs/shoot_export.py OUT MODEL FORMAT…).

Uses the library at $YOLODESK_HOME (e.g. one where `yolodesk toolchains install tensorflow` and
`yolodesk export MODEL format=saved_model` have run), opens MODEL's Export tab, selects each FORMAT's row
and grabs the window as ``export_<format>.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, model: str, formats: list[str]) -> None:
    from app.exporters.registry import FORMATS
    from docs.shoot_common import open_default

    lib, session = open_default()
    w, pump = session.window, session.pump
    out.mkdir(parents=True, exist_ok=True)
    pump(1)
    _, tab = session.open_tab(lib, model, "export")
    pump(1.5)
    order = [f.argument for f in FORMATS]
    for fmt in formats:
        tab.table.selectRow(order.index(fmt))
        tab.table.scrollToItem(tab.table.item(order.index(fmt), 0))
        pump(1)
        path = out / f"export_{fmt}.png"
        w.grab().save(str(path))
        print("saved", path)
    w.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3:])
