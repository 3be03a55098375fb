"""A console that renders ANSI colours and redraws ``\\r`` progress lines in place (one line, not hundreds)."""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

_TOKEN = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\r\n|\r|\n")
_PARTIAL = re.compile(r"\x1b(\[[0-9;?]*)?")
_PALETTE = {
    30: "#4b5563", 31: "#f87171", 32: "#4ade80", 33: "#facc15", 34: "#60a5fa", 35: "#e879f9", 36: "#22d3ee",
    37: "#e5e7eb", 90: "#9ca3af", 91: "#fca5a5", 92: "#86efac", 93: "#fde047", 94: "#93c5fd", 95: "#f0abfc",
    96: "#67e8f9", 97: "#ffffff",
}
DEFAULT_FG = "#d1d5db"
MAX_LINES = 5000


class AnsiConsole(QPlainTextEdit):
    """Append raw console text; colours and bold from SGR codes, ``\\r`` overwrites the current line."""

    def __init__(self, parent: QWidget | None = None, max_lines: int = MAX_LINES) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setMaximumBlockCount(max_lines)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(9)
        self.setFont(font)
        self.setObjectName("console")
        self.setStyleSheet(f"QPlainTextEdit#console {{ background: #111827; color: {DEFAULT_FG}; border-radius: 8px; }}")
        self._fmt = self._default_format()
        self._overwrite = False  # a \r was seen: the next text replaces the current line
        self._pending = ""
        self._cursor = QTextCursor(self.document())

    @staticmethod
    def _default_format() -> QTextCharFormat:
        f = QTextCharFormat()
        f.setForeground(QColor(DEFAULT_FG))
        f.setFontWeight(QFont.Weight.Normal)
        return f

    def _apply_sgr(self, params: str) -> None:
        codes = [int(c) for c in params.split(";") if c.isdigit()] or [0]
        for code in codes:
            if code == 0:
                self._fmt = self._default_format()
            elif code == 1:
                self._fmt.setFontWeight(QFont.Weight.Bold)
            elif code == 22:
                self._fmt.setFontWeight(QFont.Weight.Normal)
            elif code == 4:
                self._fmt.setFontUnderline(True)
            elif code == 24:
                self._fmt.setFontUnderline(False)
            elif code == 39:
                self._fmt.setForeground(QColor(DEFAULT_FG))
            elif code in _PALETTE:
                self._fmt.setForeground(QColor(_PALETTE[code]))

    def _clear_current_line(self) -> None:
        c = self._cursor
        c.movePosition(QTextCursor.MoveOperation.End)
        c.movePosition(QTextCursor.MoveOperation.StartOfBlock, QTextCursor.MoveMode.KeepAnchor)
        c.removeSelectedText()
        self._overwrite = False

    def append_text(self, text: str) -> None:
        """Render a chunk of console output (may split lines and escape codes anywhere but inside a code)."""
        text = self._pending + text
        self._pending = ""
        esc = text.rfind("\x1b")
        if esc >= 0 and _PARTIAL.fullmatch(text, esc):  # an escape code cut in two: keep it for the next chunk
            text, self._pending = text[:esc], text[esc:]
        if not text:
            return
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        c = self._cursor
        c.beginEditBlock()
        c.movePosition(QTextCursor.MoveOperation.End)
        pos = 0
        for m in _TOKEN.finditer(text):
            if m.start() > pos:
                self._insert(text[pos:m.start()])
            tok = m.group(0)
            if tok in ("\n", "\r\n"):
                c.movePosition(QTextCursor.MoveOperation.End)
                c.insertBlock()
                self._overwrite = False
            elif tok == "\r":
                self._overwrite = True
            elif m.group(2) == "m":
                self._apply_sgr(m.group(1))
            elif m.group(2) == "K":
                self._clear_current_line()
            pos = m.end()
        if pos < len(text):
            self._insert(text[pos:])
        c.endEditBlock()
        if at_bottom:
            bar.setValue(bar.maximum())

    def _insert(self, chunk: str) -> None:
        if self._overwrite:
            self._clear_current_line()
        self._cursor.movePosition(QTextCursor.MoveOperation.End)
        self._cursor.insertText(chunk, self._fmt)

    def plain_text(self) -> str:
        return self.toPlainText()

    def copy_all(self) -> None:
        """Copy the whole console as plain text (no escape codes)."""
        QGuiApplication.clipboard().setText(self.plain_text())

    def reset(self) -> None:
        self.clear()
        self._fmt = self._default_format()
        self._overwrite = False
        self._pending = ""
        self._cursor = QTextCursor(self.document())
