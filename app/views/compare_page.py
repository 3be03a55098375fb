"""The Compare side page: 2–6 models of one task side by side — every metric any of them has (best highlighted),
overlaid PR / F1 and training curves, speed per backend — a tab each.

Opened from a project's table (select models → Compare); everything is read on the window's library thread
(``load_comparison``), so a large capture never blocks the window. A wrong choice (one model, seven, a mix of tasks)
is one line on the page; nothing else changes.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from app.views.compare.metrics_table import MetricsTable, SpeedTable
from app.views.compare.overlay_charts import OverlayCharts

HINT = ("<div style='font-size:14pt; font-weight:600'>Compare models</div>"
        "<p>In a project's table, select 2 to 6 models of one task (Ctrl- or Shift-click),<br>"
        "then press <b>Compare</b> (or right-click → Compare).</p>")


class ComparePage(QWidget):
    """``show_models(ids)`` reads and shows a comparison."""

    def __init__(self, lib: Any, ops: Any, parent: QWidget | None = None) -> None:  # noqa: ANN401
        super().__init__(parent)
        self._lib, self._ops = lib, ops
        self.model_ids: list[str] = []
        self.result: dict[str, Any] = {}
        self.title = QLabel("Compare")
        self.title.setObjectName("pageTitle")
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("muted")
        self.subtitle.setWordWrap(True)
        self.problem = QLabel("")
        self.problem.setObjectName("error")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.metrics = MetricsTable()
        self.speed = SpeedTable()
        self.charts = OverlayCharts()
        self.tables = QTabWidget()  # a tab each: every metric row gets the page's height, not a third of it
        self.tables.setDocumentMode(True)
        self.tables.addTab(self.metrics, "Metrics")
        self.tables.addTab(self.charts, "Curves")
        self.tables.addTab(self.speed, "Speed per backend")
        body = QWidget()
        body_lay = QVBoxLayout(body)
        body_lay.setContentsMargins(0, 0, 0, 0)
        body_lay.addWidget(self.tables, 1)
        self.hint = QLabel(HINT)
        self.hint.setObjectName("emptyState")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.hint)
        self.stack.addWidget(body)
        self.body = body
        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 16, 20, 12)
        lay.addWidget(self.title)
        lay.addWidget(self.subtitle)
        lay.addWidget(self.problem)
        lay.addWidget(self.stack, 1)

    def show_models(self, model_ids: list[str]) -> None:
        """Compare these models (ids); the answer arrives from the library thread."""
        from app.views.compare.loader import load_comparison

        self.model_ids = list(model_ids)
        lib, ids = self._lib, self.model_ids
        self.subtitle.setText(f"Reading {len(ids)} models…")
        self._ops.submit(lambda: (ids, load_comparison(lib, ids)), self._on_loaded, self._on_failed,
                         "Comparing models")

    def refresh(self) -> None:
        """Read the shown models again (the window calls it when the page is shown)."""
        if self.model_ids:
            self.show_models(self.model_ids)

    def on_changes(self, changes: Any) -> None:  # noqa: ANN401 (app.qt.library_changes.Changes)
        """A compared model changed (a new validation, a rename): read again."""
        if self.model_ids and (set(changes.models) | set(changes.job_models)) & set(self.model_ids):
            self.show_models(self.model_ids)

    def _on_loaded(self, loaded: tuple[list[str], dict[str, Any]]) -> None:
        ids, result = loaded
        if ids != self.model_ids:
            return  # a newer choice is on its way
        self.result = result
        self.problem.hide()
        models = result["models"]
        self.subtitle.setText(f"{len(models)} {result['task']} models: " + ", ".join(m["name"] for m in models))
        notes = [f"{n}: not validated yet (Validation tab → Validate…)" for n in result["unvalidated"]]
        notes += [f"{m['name']}: {result['extra'][m['id']]['curve_problem']}" for m in models
                  if result["extra"][m["id"]]["curve_problem"] not in (None, "not validated")]
        if notes:
            self.problem.setText("  ·  ".join(notes))
            self.problem.show()
        self.metrics.show_comparison(result)
        self.speed.show_comparison(result)
        self.charts.show_comparison(result)
        self.stack.setCurrentWidget(self.body)

    def _on_failed(self, error: Exception) -> None:
        self.problem.setText(f"⚠ {error}")  # one line: the count or the mix of tasks that is wrong
        self.problem.show()
        self.subtitle.setText("")
        if not self.result:
            self.stack.setCurrentWidget(self.hint)
