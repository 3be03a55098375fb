"""A model's page: a breadcrumb back to its project and the tabs Overview, Train, Predict, Export, Deploy."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from app.jobs.store import JobRecord
from app.library.records import ModelRecord
from app.views.export_tab import ExportTab
from app.views.overview_tab import OverviewTab
from app.views.train_tab import TrainTab

# Tabs whose feature has not landed: disabled, and the tooltip says so (never fake content).
PENDING_TABS = (("Deploy", "Local inference endpoints are not in this build yet."),)


class ModelPage(QWidget):
    """Holds the tabs of one model; the main window feeds it records."""

    backRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.back = QPushButton("← Project")
        self.back.setObjectName("flat")
        self.back.clicked.connect(self.backRequested.emit)
        self.crumb = QLabel()
        self.crumb.setObjectName("muted")
        head = QHBoxLayout()
        head.addWidget(self.back)
        head.addWidget(self.crumb)
        head.addStretch(1)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.overview = OverviewTab()
        self.tabs.addTab(self.overview, "Overview")
        self.train = TrainTab()
        self.tabs.addTab(self.train, "Train")
        from app.views.predict_tab import PredictTab

        self.predict = PredictTab()
        self.tabs.addTab(self.predict, "Predict")
        self.export = ExportTab()
        self.tabs.addTab(self.export, "Export")
        for title, why in PENDING_TABS:
            pending = QLabel(why)
            index = self.tabs.addTab(pending, title)
            self.tabs.setTabEnabled(index, False)
            self.tabs.setTabToolTip(index, why)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 8, 16, 8)
        lay.addLayout(head)
        lay.addWidget(self.tabs, 1)

    def show_record(self, m: ModelRecord, job: JobRecord | None = None) -> None:
        self.back.setText(f"← {m.project}")
        self.crumb.setText(f"/  {m.name}")
        self.overview.show_record(m)
        self.train.show_model(m, job)
