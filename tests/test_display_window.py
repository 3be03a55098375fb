"""Names from checkpoints and file names shown escaped in the window: the model table and the Overview tab."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from PySide6.QtCore import Qt

from tests.test_display_cli import HOSTILE_NAMES, hostile_pt  # noqa: F401  (fixture)

ESCAPES = ("\x1b", "\x07", "\udcff")


def _clean(text: str) -> bool:
    return not any(c in text for c in ESCAPES)


def test_model_table_and_overview_show_escaped_names(qtbot, lib, hostile_pt, tmp_path):  # noqa: F811
    from app.qt.model_table import COLUMNS, ModelTableModel
    from app.views.overview_tab import OverviewTab

    odd = Path(os.fsdecode(tmp_path.as_posix().encode() + b"/\x1b[31mred\xff.pt"))
    shutil.copyfile(hostile_pt, odd)
    record = lib.import_checkpoint(odd).model
    record = lib.rename_model(record.id, "\x1b]0;pwned\x07 model")  # a name typed or scripted with an escape
    assert record.class_names == list(HOSTILE_NAMES.values())  # stored as given
    table = ModelTableModel()
    table.set_records([record])
    shown = [table.data(table.index(0, c)) for c in range(len(COLUMNS))]
    tip = table.data(table.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert all(_clean(str(v)) for v in [*shown, tip]), [*shown, tip]
    assert shown[0] == "\\x1b]0;pwned\\x07 model" and "\\x1b[31mred" in tip
    tab = OverviewTab()
    qtbot.addWidget(tab)
    tab.show_record(record)
    classes = [tab.classes.item(i).text() for i in range(tab.classes.count())]
    assert classes == ["0  \\x1b]0;pwned\\x07", "1  \\x1b[2J"]
    original = tab._file_labels["Original file"].text()
    assert _clean(original) and "\\x1b[31mred" in original
    assert _clean(tab.name_edit.text()) and tab.arch_label.textFormat() == Qt.TextFormat.PlainText
    renamed: list[tuple[str, str]] = []
    tab.renameRequested.connect(lambda *a: renamed.append(a))
    tab._on_name_edit_editing_finished()  # leaving the field with the escaped name shown renames nothing
    assert renamed == []
