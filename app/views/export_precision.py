"""Download and Delete on a format that has both an FP32 and an INT8 export: a small menu on each button says which.

With one export of the format the button acts on it directly, as before; with both, each button pops a menu of
"FP32 export (12.1 MB)" and "INT8 export (3.2 MB, mAP50 −0.7)", each entry enabled by its own state.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMenu, QPushButton

from app.exporters.int8 import accuracy_of, cell_text
from app.exporters.store import ExportRecord
from app.qt.model_table import fmt_size

ACTIVE = ("Queued", "Starting", "Running")


def choice_label(e: ExportRecord, int8: bool) -> str:
    """What a menu entry calls an export: its precision, size and, for INT8, its accuracy change."""
    facts = [fmt_size(e.size)] if e.size else []
    check = accuracy_of(e) if int8 else None
    if check is not None:  # "mAP50 −0.7" (its change against the .pt, in points), "✗" when inaccurate
        facts.append(f"{check.metric} {cell_text(e).removeprefix('INT8 ')}")
    if e.status != "Completed":
        facts = [e.status.lower()]
    return f"{'INT8' if int8 else 'FP32'} export" + (f" ({', '.join(facts)})" if facts else "")


def set_precision_menu(button: QPushButton, fp32: ExportRecord | None, int8: ExportRecord | None,
                       can_act: Callable[[ExportRecord], bool], act: Callable[[str], None]) -> None:
    """Give ``button`` a FP32 / INT8 menu when both exports exist (each entry enabled by ``can_act``), else none.

    ``act`` receives the chosen export's id. Without a menu the button's own click handler acts, as before.
    """
    old = button.menu()
    if fp32 is None or int8 is None:
        button.setMenu(None)  # type: ignore[arg-type]  # (PySide6 accepts None: no menu)
        if old is not None:
            old.deleteLater()
        return
    menu = QMenu(button)
    for rec, is_int8 in ((fp32, False), (int8, True)):
        action = menu.addAction(choice_label(rec, is_int8), lambda export_id=rec.id: act(export_id))
        action.setEnabled(can_act(rec))
    button.setMenu(menu)
    if old is not None:
        old.deleteLater()
