"""The Qt binding itself: a build that drops references to None would abort a busy window within minutes.

PySide6 6.12.0 under Python 3.11 decrements None's refcount on every call of a void method; the
GUI-stall benchmark (1,000 console lines a second) crashed with "deallocating None" after ~20 s.
"""

from __future__ import annotations

import sys

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QProgressBar


def test_void_calls_do_not_drop_references_to_none(qtbot):
    edit = QPlainTextEdit()
    qtbot.addWidget(edit)
    bar = QProgressBar()
    qtbot.addWidget(bar)
    fmt = QTextCharFormat()
    cursor = QTextCursor(edit.document())
    before = sys.getrefcount(None)
    for i in range(2000):
        bar.setValue(i % 100)
        fmt.setForeground(QColor("#ff0000"))
        cursor.insertBlock()
    assert sys.getrefcount(None) - before > -100  # a leak would show as about -6000
