"""A model's page: a breadcrumb back to its project and the tabs Overview, Train, Predict, Export, Validation,
Deploy."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QScrollArea, QTabWidget, QVBoxLayout, QWidget
from superqt import QElidingLabel

from app.jobs.store import JobRecord
from app.library.records import ModelRecord
from app.views.export_tab import ExportTab
from app.views.overview_tab import OverviewTab
from app.views.train_tab import TrainTab
from app.views.visibility_badge import VisibilityBadge


class ScrollingTabs(QTabWidget):
    """Tabs whose pages scroll when the window is narrower than a page's minimum, instead of widening the window.

    A QTabWidget's minimum is its widest page's; one wide row (Predict's controls) made the whole window
    wider than a laptop screen. Callers keep addressing the pages themselves: the wrapping is hidden.
    """

    def addTab(self, page: QWidget, title: str) -> int:  # noqa: N802 (Qt's name)
        area = QScrollArea()
        area.setWidgetResizable(True)  # the page fills the tab when there is room; scrolls only when there is not
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidget(page)
        return super().addTab(area, title)

    def page(self, index: int) -> QWidget | None:
        """The page at ``index`` (not its scroll area)."""
        area = super().widget(index)
        return area.widget() if isinstance(area, QScrollArea) else area

    def widget(self, index: int) -> QWidget | None:  # noqa: D102 (QTabWidget.widget, unwrapped)
        return self.page(index)

    def currentWidget(self) -> QWidget | None:  # noqa: N802, D102
        return self.page(self.currentIndex())

    def indexOf(self, page: QWidget) -> int:  # noqa: N802, D102
        return next((i for i in range(self.count()) if self.page(i) is page), -1)

    def setCurrentWidget(self, page: QWidget) -> None:  # noqa: N802, D102
        index = self.indexOf(page)
        if index >= 0:
            self.setCurrentIndex(index)

    def scroll_to_top(self) -> None:
        """Every page back at its top-left (a model opened must not keep the previous one's scroll)."""
        for i in range(self.count()):
            area = super().widget(i)
            if isinstance(area, QScrollArea):
                area.verticalScrollBar().setValue(0)
                area.horizontalScrollBar().setValue(0)
            for inner in area.findChildren(QScrollArea):
                inner.verticalScrollBar().setValue(0)


class ModelPage(QWidget):
    """Holds the tabs of one model; the main window feeds it records."""

    backRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.back = QPushButton("← Project")
        self.back.setObjectName("flat")
        self.back.clicked.connect(self.backRequested.emit)
        self.crumb = QElidingLabel()  # a long model name is elided, never widening the page
        self.crumb.setObjectName("muted")
        head = QHBoxLayout()
        head.addWidget(self.back)
        head.addWidget(self.crumb, 1)
        self.clone_button = QPushButton("Clone…")  # app/views/clone_actions.py carries it out
        self.clone_button.setToolTip("Clone this model into another project (hard links: no extra space)")
        head.addWidget(self.clone_button)
        self.visibility = VisibilityBadge()  # Private / Public, click to toggle (the window's actions carry it out)
        head.addWidget(self.visibility)
        self.tabs = ScrollingTabs()
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(True)  # a narrow window scrolls the tab bar rather than widening
        self.overview = OverviewTab()
        self.tabs.addTab(self.overview, "Overview")
        self.train = TrainTab()
        self.tabs.addTab(self.train, "Train")
        from app.views.predict_tab import PredictTab

        self.predict = PredictTab()
        self.tabs.addTab(self.predict, "Predict")
        self.export = ExportTab()
        self.tabs.addTab(self.export, "Export")
        from app.views.validation_tab import ValidationTab

        self.validation = ValidationTab()  # the window attaches its library thread and job manager
        self.tabs.addTab(self.validation, "Validation")
        from app.views.deploy_tab import DeployTab

        self.deploy = DeployTab()  # the window attaches its library thread and job manager
        self.tabs.addTab(self.deploy, "Deploy")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 8, 16, 8)
        lay.addLayout(head)
        lay.addWidget(self.tabs, 1)

    def attach(self, lib: Any, ops: Any, jobs: Any) -> None:  # noqa: ANN401 (Library, LibraryOps, JobManager)
        """Give the tabs that read or start jobs (Deploy, Validation) the window's library thread and job manager."""
        self.deploy.attach(lib, ops, jobs)
        self.validation.attach(lib, ops, jobs)

    def show_record(self, m: ModelRecord, job: JobRecord | None = None) -> None:
        self.back.setText(f"← {m.project}")
        self.crumb.setText(f"/  {m.name}")
        self.crumb.setToolTip(m.name)
        self.clone_button.setEnabled(m.has_weights)  # a training without weights yet has nothing to clone
        self.visibility.show_model(m)
        self.overview.show_record(m)
        self.train.show_model(m, job)
        self.deploy.show_model(m)
        self.validation.show_model(m)
