"""The "New endpoint" form of the Deploy tab: name, where, port, LAN opt-in, runtime → Deploy."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from app.predict.session import BackendChoice

LAN_WARNING = ("Listens on every network interface (0.0.0.0): other machines can reach it and only the token "
               "protects it.")


@dataclass(frozen=True)
class EndpointRequest:
    """What the user asked for; ``EndpointManager.deploy`` checks it."""

    name: str | None
    worker: str | None
    port: int
    lan: bool
    backend: str


class EndpointForm(QGroupBox):
    """The form; it emits ``deployRequested`` and shows the verdict it is handed back."""

    deployRequested = Signal(object)  # EndpointRequest

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("New endpoint", parent)
        self.name = QLineEdit()
        self.name.setPlaceholderText("the model's name")
        self.where = QComboBox()
        self.where.addItem("This machine", None)
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("any free port")  # 0: the agent picks one
        self.lan = QCheckBox("Reachable from the LAN")
        self.lan_warning = QLabel(LAN_WARNING)
        self.lan_warning.setObjectName("warning")
        self.lan_warning.setWordWrap(True)
        self.lan_warning.setVisible(False)
        self.lan.toggled.connect(self.lan_warning.setVisible)
        self.runtime = QComboBox()
        self.deploy_button = QPushButton("Deploy")
        self.deploy_button.setEnabled(False)
        self.deploy_button.clicked.connect(self._on_deploy_button_clicked)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.where.currentIndexChanged.connect(self._on_where_changed)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Where", self.where)
        form.addRow("Port", self.port)
        form.addRow("", self.lan)
        form.addRow("", self.lan_warning)
        form.addRow("Runtime", self.runtime)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.deploy_button)
        lay.addWidget(self.verdict)

    def set_choices(self, choices: list[BackendChoice], workers: list[str]) -> None:
        """The model's runtimes (verified exports, then PyTorch) and the registered workers."""
        self.runtime.clear()
        for c in choices:
            self.runtime.addItem(f"{c.name}" + (" (verified export)" if c.verified and c.format != "pt" else ""),
                                 c.format)
        current = self.where.currentData()
        self.where.blockSignals(True)
        self.where.clear()
        self.where.addItem("This machine", None)
        for w in workers:
            self.where.addItem(f"Worker {w}", w)
        self.where.setCurrentIndex(max(0, self.where.findData(current)))
        self.where.blockSignals(False)
        self._on_where_changed()
        self.deploy_button.setEnabled(bool(choices))
        if not choices:
            self.verdict.setText("This model has no weights or verified export to serve.")

    def set_busy(self, busy: bool) -> None:
        self.deploy_button.setEnabled(not busy and self.runtime.count() > 0)
        self.deploy_button.setText("Deploying…" if busy else "Deploy")

    def _on_where_changed(self) -> None:
        on_worker = self.where.currentData() is not None
        self.lan.setEnabled(not on_worker)  # a worker's endpoint stays on its loopback, tunnelled here
        if on_worker:
            self.lan.setChecked(False)
            pt = self.runtime.findData("pt")  # a worker serves the .pt
            if pt >= 0:
                self.runtime.setCurrentIndex(pt)
        self.runtime.setEnabled(not on_worker)

    def _on_deploy_button_clicked(self) -> None:
        self.verdict.setText("")
        self.deployRequested.emit(EndpointRequest(
            name=self.name.text().strip() or None, worker=self.where.currentData(), port=self.port.value(),
            lan=self.lan.isChecked(), backend=str(self.runtime.currentData() or "pt")))
