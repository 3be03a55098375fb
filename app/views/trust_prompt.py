"""The one question asked before YOLO Desk loads a checkpoint its loading gate refused: trust it, or not."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

RISK = ("Loading it anyway runs whatever code the file contains — only do that for a file you trust (your own "
        "training, or a known source). The file's sha256 is remembered, so these exact bytes are not asked about "
        "again; any other file still goes through the safe loader.")


def ask_trust(parent: QWidget, reason: str, accept_label: str, on_accept: Callable[[], None]) -> QMessageBox:
    """Open (not exec) the warning; ``on_accept`` runs only if the user chose ``accept_label``."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Trust this checkpoint?", f"{reason}\n\n{RISK}", parent=parent)
    box.setObjectName("trustCheckpoint")
    accept = box.addButton(accept_label, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.finished.connect(lambda _r: on_accept() if box.clickedButton() is accept else None)
    box.open()
    return box
