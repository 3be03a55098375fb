"""The Validate… form: which data set (the linked one, or a data.yaml), which split, and where it runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QRadioButton, QVBoxLayout, QWidget)

from app.jobs.placement import ANY_GPU, ANY_GPU_LABEL

SPLITS = ("val", "test", "train")


@dataclass(frozen=True)
class ValidateRequest:
    """What the user asked for: ``data`` None means the model's linked data set; ``worker`` "local" or a name."""

    data: str | None
    split: str
    worker: str


def request_problem(data: str | None, linked: str | None) -> str | None:
    """Why the request cannot run, in one line (None when it can)."""
    if data is None:
        return None if linked else "This model has no linked data set: pick a data.yaml."
    if not data.strip():
        return "Pick a data.yaml, or choose the linked data set."
    path = Path(data).expanduser()
    if not path.is_file():
        return f"No data set file at {data}."
    if path.suffix.lower() not in (".yaml", ".yml"):
        return f"{path.name} is not a data.yaml (.yaml or .yml)."
    return None


class ValidateDialog(QDialog):
    """Asks for a :class:`ValidateRequest`; ``workers`` are the names offered besides this machine."""

    def __init__(self, linked: str | None, workers: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Validate")
        self.linked = linked
        self.linked_button = QRadioButton(f"Linked data set: {linked}" if linked else "Linked data set: none")
        self.linked_button.setEnabled(bool(linked))
        self.file_button = QRadioButton("A data.yaml:")
        group = QButtonGroup(self)
        group.addButton(self.linked_button)
        group.addButton(self.file_button)
        (self.linked_button if linked else self.file_button).setChecked(True)
        self.path = QLineEdit()
        self.path.setPlaceholderText("/path/to/data.yaml")
        self.path.textEdited.connect(lambda _t: self.file_button.setChecked(True))
        group.buttonToggled.connect(lambda _b, _on: self._show_problem(None))  # a changed choice: the old verdict goes
        self.path.textEdited.connect(lambda _t: self._show_problem(None))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        row = QHBoxLayout()
        row.addWidget(self.file_button)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.split = QComboBox()
        self.split.addItems(SPLITS)
        self.where = QComboBox()
        self.where.addItem("This machine", "local")
        for name in workers:
            self.where.addItem(f"Worker {name}", name)
        if workers:  # one queue across workers: the job waits until a worker has a GPU free
            self.where.addItem(ANY_GPU_LABEL, ANY_GPU)
        self.problem = QLabel("")
        self.problem.setObjectName("error")
        self.problem.setWordWrap(True)
        self.problem.hide()  # an empty error bar reads as an error with no words: shown only with a message
        form = QFormLayout()
        form.addRow("Split", self.split)
        form.addRow("Where", self.where)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Validate")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Data set"))
        lay.addWidget(self.linked_button)
        lay.addLayout(row)
        lay.addLayout(form)
        lay.addWidget(self.problem)
        lay.addWidget(buttons)

    def request(self) -> ValidateRequest:
        """The request the form describes now."""
        data = None if self.linked_button.isChecked() else (self.path.text().strip() or "")
        return ValidateRequest(data, self.split.currentText(), self.where.currentData() or "local")

    def _on_buttons_accepted(self) -> None:
        problem = request_problem(self.request().data, self.linked)
        if problem:  # the form stays open with its input; the reason is shown under it
            self._show_problem(problem)
            return
        self.accept()

    def _show_problem(self, text: str | None) -> None:
        """The one-line reason under the form, or none (the bar hidden)."""
        self.problem.setText(text or "")
        self.problem.setVisible(bool(text))

    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Data set", "", "Data set (*.yaml *.yml)")
        if path:
            self.path.setText(path)
            self.file_button.setChecked(True)
