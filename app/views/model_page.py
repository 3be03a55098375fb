"""A model's page: a breadcrumb back to its project and the tabs Overview, Train, Predict, Export, Validation,
Deploy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QScrollArea, QTabWidget, QVBoxLayout, QWidget
from superqt import QElidingLabel

from app.jobs.store import JobRecord
from app.library.records import ModelRecord
from app.views.export_tab import ExportTab
from app.views.overview_tab import OverviewTab
from app.views.visibility_badge import VisibilityBadge
from app.widgets.lazy_tabs import LazyTabs

if TYPE_CHECKING:
    from app.views.deploy_tab import DeployTab
    from app.views.train_tab import TrainTab
    from app.views.validation_tab import ValidationTab


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
        # Train, Validation and Deploy are made when first shown or asked for (~0.1 s each to build)
        self.lazy = LazyTabs(self.tabs)
        self._record: tuple[ModelRecord, JobRecord | None] | None = None
        self._attached: tuple[Any, Any, Any] | None = None
        self.overview = OverviewTab()
        self.tabs.addTab(self.overview, "Overview")
        self.lazy.add("train", "Train", self._make_train)
        from app.views.predict_tab import PredictTab

        self.predict = PredictTab()
        self.tabs.addTab(self.predict, "Predict")
        self.export = ExportTab()
        self.tabs.addTab(self.export, "Export")
        self.lazy.add("validation", "Validation", lambda: self._make_attached("validation"))
        self.lazy.add("deploy", "Deploy", lambda: self._make_attached("deploy"))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 8, 16, 8)
        lay.addLayout(head)
        lay.addWidget(self.tabs, 1)

    @property
    def train(self) -> TrainTab:
        """The Train tab (made now if it was not yet)."""
        return self.lazy.get("train")

    @property
    def validation(self) -> ValidationTab:
        """The Validation tab (made now if it was not yet)."""
        return self.lazy.get("validation")

    @property
    def deploy(self) -> DeployTab:
        """The Deploy tab (made now if it was not yet)."""
        return self.lazy.get("deploy")

    def made(self, name: str) -> QWidget | None:
        """A lazy tab (``train``, ``validation``, ``deploy``) if it was made, else None; the others are always made."""
        return self.lazy.made(name) if name in self.lazy.names() else getattr(self, name)

    def when_made(self, name: str, callback: Any) -> None:  # noqa: ANN401 (a callable taking the tab)
        """Call ``callback(tab)`` once the lazy tab ``name`` exists (now, if it does)."""
        self.lazy.when_made(name, callback)

    def _make_train(self) -> TrainTab:
        from app.views.train_tab import TrainTab

        tab = TrainTab()
        if self._record is not None:
            tab.show_model(*self._record)
        return tab

    def _make_attached(self, name: str) -> QWidget:
        if name == "deploy":
            from app.views.deploy_tab import DeployTab

            tab: Any = DeployTab()
        else:
            from app.views.validation_tab import ValidationTab

            tab = ValidationTab()
        if self._attached is not None:
            tab.attach(*self._attached)
        if self._record is not None:
            tab.show_model(self._record[0])
        return tab

    def attach(self, lib: Any, ops: Any, jobs: Any) -> None:  # noqa: ANN401 (Library, LibraryOps, JobManager)
        """Give the tabs that read or start jobs (Deploy, Validation) the window's library thread and job manager."""
        self._attached = (lib, ops, jobs)
        for name in ("deploy", "validation"):
            if (tab := self.lazy.made(name)) is not None:
                tab.attach(lib, ops, jobs)

    def shutdown(self) -> None:
        """Stop Train's event stream (if the tab was made) and Predict's camera and model thread."""
        if (train := self.lazy.made("train")) is not None:  # never made: nothing streams
            train.stop_stream()
        self.predict.shutdown()

    def show_record(self, m: ModelRecord, job: JobRecord | None = None) -> None:
        """Show ``m`` (and its training ``job``) in the head and the tabs made; a tab made later shows it then."""
        self._record = (m, job)
        self.back.setText(f"← {m.project}")
        self.crumb.setText(f"/  {m.name}")
        self.crumb.setToolTip(m.name)
        self.clone_button.setEnabled(m.has_weights)  # a training without weights yet has nothing to clone
        self.visibility.show_model(m)
        self.overview.show_record(m)
        if (train := self.lazy.made("train")) is not None:
            train.show_model(m, job)
        for name in ("deploy", "validation"):
            if (tab := self.lazy.made(name)) is not None:
                tab.show_model(m)
