"""“Replace model…”: another model of the library with the same task, and the runtime to serve it with.

The candidates and their runtimes are read on the library thread before the dialog opens; the dialog only picks.
The endpoint loads and warms the new model beside the old one, then switches: its URL and token stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

NOTE = ("The endpoint loads and warms the new model while the old one goes on answering, then switches between "
        "two requests: no request fails, the URL and the token stay.")


@dataclass(frozen=True)
class ReplaceCandidate:
    """A model the endpoint may serve instead, with its runtimes on the endpoint's machine (fastest first)."""

    model_id: str
    name: str
    runtimes: list[tuple[str, str]]  # (label, format)


class ReplaceDialog(QDialog):
    """Pick the model and its runtime; :meth:`choice` is (model id, format) once accepted."""

    def __init__(self, endpoint_name: str, candidates: list[ReplaceCandidate], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Replace the model of {endpoint_name}")
        self.candidates = candidates
        self.model = QComboBox()
        for c in candidates:
            self.model.addItem(c.name, c.model_id)
        self.runtime = QComboBox()
        self.model.currentIndexChanged.connect(self._on_model_changed)
        note = QLabel(NOTE)
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Model", self.model)
        form.addRow("Runtime", self.runtime)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Replace")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(self.buttons)
        self._on_model_changed()

    def _on_model_changed(self) -> None:
        self.runtime.clear()
        index = self.model.currentIndex()
        runtimes = self.candidates[index].runtimes if 0 <= index < len(self.candidates) else []
        for label, fmt in runtimes:
            self.runtime.addItem(label, fmt)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(runtimes))

    def choice(self) -> tuple[str, str] | None:
        """(model id, runtime format) picked, or None."""
        model_id: Any = self.model.currentData()
        fmt: Any = self.runtime.currentData()
        return (str(model_id), str(fmt)) if model_id and fmt else None
