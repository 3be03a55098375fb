"""The Deploy tab: a model's HTTP endpoints — make one, watch its state and traffic, copy how to call it, try it
with a picture, replace its model, rotate its token, stop it.

Every EndpointManager call runs on the window's library thread (``LibraryOps``) and returns quickly (a worker's
tunnel is started, not waited for; a replace is asked, then its answer looked for — ``EndpointChanges``); the
/metrics readings, token look-ups and test requests run on the thread pool with a bounded timeout. The GUI thread
never touches SQLite or the network. A poll every 2 s while the tab is shown keeps the states current.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit, QPushButton, QTableWidget,
                               QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from app.deploy.metrics_reading import MetricsReading, read_endpoint
from app.library.records import ModelRecord
from app.views.deploy.endpoint_changes import EndpointChanges, one_line
from app.views.deploy.endpoint_form import EndpointForm, EndpointRequest
from app.views.deploy.metrics_chart import MetricsChart
from app.views.deploy.snippets import curl_snippet, python_snippet
from app.views.deploy.try_panel import TryPanel

POLL_MS = 2000
LOG_LINES = 200
COLUMNS = ("Name", "Model", "State", "Where", "Runtime", "URL", "Token")
COL_URL = 5
LIVE = ("Creating", "Deploying", "Ready", "Stopping")  # as app.deploy.store: importing it would load SQLAlchemy here
TOKEN_MASK = "••••"  # and the last four characters once known: short, so the URL column keeps the room
TUNNEL_NOTE = ("On worker {worker}: the endpoint listens on the worker's loopback only (port {port}); {url} is an "
               "SSH tunnel from this machine.")


def masked(token: str | None) -> str:
    """The token as the table shows it: hidden, but for its last four characters once this window knows it."""
    return TOKEN_MASK + (token[-4:] if token else "")


class DeployTab(QWidget):
    """The form on the left; the endpoints, the chart, the snippets and the log on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: ModelRecord | None = None
        self.endpoints: list[Any] = []  # EndpointRecord rows of this model, newest reading
        self.tokens: dict[str, str] = {}  # shown once at deploy; otherwise read from the keyring on copy
        self._lib: Any = None
        self._ops: Any = None
        self._jobs: Any = None
        self._manager: Any = None  # EndpointManager, made on the library thread
        self._polling = False
        self._reading_metrics = False
        self._chart_endpoint: str | None = None
        self._pending_select: str | None = None  # the endpoint just deployed: selected once its row arrives
        self.model_names: dict[str, str] = {}
        self.changes = EndpointChanges(self)

        self.form = EndpointForm()
        self.form.deployRequested.connect(self._on_form_deploy_requested)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for col in (0, 1, 2, 3, 4, 6):  # all but the URL as wide as they read; the URL takes the rest
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_URL, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(90)
        self.table.setMaximumHeight(130)  # a few endpoints; the chart, snippets and test panel need the room
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.delete_button = QPushButton("Delete")
        self.copy_token_button = QPushButton("Copy token")
        self.replace_button = QPushButton("Replace model…")
        self.rotate_button = QPushButton("Rotate token")
        self.replace_button.clicked.connect(self.changes.replace_selected)
        self.rotate_button.clicked.connect(self.changes.rotate_selected)
        self.start_button.clicked.connect(self._on_start_button_clicked)
        self.stop_button.clicked.connect(self._on_stop_button_clicked)
        self.delete_button.clicked.connect(self._on_delete_button_clicked)
        self.copy_token_button.clicked.connect(self._on_copy_token_button_clicked)
        actions = QHBoxLayout()
        for b in (self.start_button, self.stop_button, self.delete_button, self.replace_button, self.copy_token_button,
                  self.rotate_button):
            actions.addWidget(b)
        actions.addStretch(1)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.where_note = QLabel()
        self.where_note.setWordWrap(True)
        self.where_note.setVisible(False)
        self.chart = MetricsChart()
        self.chart.setMaximumHeight(220)  # the snippets stay in view at 800 px
        self.snippets = QTabWidget()
        self.curl = QPlainTextEdit(readOnly=True)
        self.python = QPlainTextEdit(readOnly=True)
        self.snippets.setMaximumHeight(150)  # five lines of code
        self.snippets.addTab(self.curl, "curl")
        self.snippets.addTab(self.python, "Python")
        self.copy_snippet_button = QPushButton("Copy with token")
        self.copy_snippet_button.clicked.connect(self._on_copy_snippet_button_clicked)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setMinimumHeight(100)
        self.try_panel = TryPanel()
        self.try_panel.pictureChosen.connect(self._on_try_panel_picture_chosen)
        traffic = QWidget()
        traffic_lay = QVBoxLayout(traffic)
        traffic_lay.setContentsMargins(0, 0, 0, 0)
        traffic_lay.addWidget(self.chart, 1)
        snippet_row = QHBoxLayout()
        snippet_row.addWidget(self.snippets, 1)
        snippet_row.addWidget(self.copy_snippet_button, 0, Qt.AlignmentFlag.AlignTop)
        traffic_lay.addLayout(snippet_row, 1)
        self.views = QTabWidget()  # traffic and the test panel share the height under the table
        self.views.addTab(traffic, "Traffic")
        self.views.addTab(self.try_panel, "Test")
        right = QVBoxLayout()
        right.addWidget(self.table)
        right.addLayout(actions)
        right.addWidget(self.where_note)
        right.addWidget(self.verdict)
        right.addWidget(self.views, 1)
        left = QVBoxLayout()  # the log under the form: the column has the height to spare
        left.addWidget(self.form)
        left.addWidget(QLabel("Log of the selected endpoint"))
        left.addWidget(self.log, 1)
        self.form.setMaximumWidth(340)
        self.log.setMaximumWidth(340)
        lay = QHBoxLayout(self)
        lay.addLayout(left)
        lay.addLayout(right, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self._update_buttons()

    # ------------------------------------------------------------------ wiring
    def attach(self, lib: Any, ops: Any, jobs: Any) -> None:
        """The window's library, its library thread and its job manager (the tab runs nothing without them)."""
        self._lib, self._ops, self._jobs = lib, ops, jobs

    def show_model(self, model: ModelRecord) -> None:
        """Show ``model``'s endpoints; its runtimes and the workers are read again."""
        changed = self.model is None or self.model.id != model.id
        self.model = model
        if changed:
            self.endpoints = []
            self.table.setRowCount(0)
            self.chart.clear()
            self._chart_endpoint = None
            self.log.clear()
            self.form.name.clear()
            self.verdict.clear()
        if self._ops is None:
            return
        model_id = model.id
        self._ops.submit(lambda: self._choices_and_workers(model_id), self._on_choices_read,
                         what="Reading the model's runtimes")
        self.poll()

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.timer.start()
        self.poll()

    def hideEvent(self, event: Any) -> None:  # noqa: N802
        super().hideEvent(event)
        self.timer.stop()  # a hidden tab reads nothing

    # ------------------------------------------------------- library thread work
    @property
    def ops(self) -> Any:
        """The window's library thread (None until attached)."""
        return self._ops

    def eps(self) -> Any:
        """The EndpointManager (library thread only)."""
        return self._eps()

    def _eps(self) -> Any:
        if self._manager is None:
            from app.deploy.endpoints import EndpointManager  # SQLAlchemy-backed: loaded on first use only

            self._manager = EndpointManager(self._jobs)
        return self._manager

    def _choices_and_workers(self, model_id: str) -> tuple[list[Any], list[str]]:
        from app.jobs.workers import WorkerStore

        return self._eps().choices(model_id), [w.name for w in WorkerStore(self._lib).list()]

    def _read_endpoints(self, model_id: str, selected: str | None,
                        followed: set[str]) -> tuple[list[Any], str, dict[str, str], list[str]]:
        from app.library.repository import LibraryError

        eps = self._eps()
        rows = [e for e in eps.listing() if e.model_id == model_id or e.id in followed]
        problems = []
        for e in rows:  # a worker's Ready endpoint needs its tunnel here: started now, its URL on a later poll
            if e.worker != "local" and e.state == "Ready" and not e.url:
                try:
                    eps.ensure_tunnel(e.id)
                except LibraryError as err:
                    problems.append(f"{e.name}: {err}")
        rows = [eps.refresh(e.id) for e in rows]
        log = eps.logs(selected) if selected and any(e.id == selected for e in rows) else ""
        names = {m.id: m.name for m in self._lib.models()} if rows else {}
        return rows, log, names, problems

    # ------------------------------------------------------------------- GUI side
    def poll(self) -> None:
        """Read the endpoints' states (and the selected one's log); then their /metrics."""
        if self._ops is None or self.model is None or self._polling:
            return
        self._polling = True
        model_id, selected, followed = self.model.id, self.selected_id(), set(self.changes.followed)
        self._ops.submit(lambda: self._read_endpoints(model_id, selected, followed), self._on_endpoints_read,
                         self._on_poll_failed, "Reading the endpoints")

    def _on_poll_failed(self, error: Exception) -> None:
        self._polling = False
        self.verdict.setText(f"Could not read the endpoints: {str(error).splitlines()[0] if str(error) else error!r}")

    def _on_choices_read(self, result: tuple[list[Any], list[str]]) -> None:
        choices, workers = result
        self.form.set_choices(choices, workers)

    def _on_endpoints_read(self, result: tuple[list[Any], str, dict[str, str], list[str]]) -> None:
        self._polling = False
        rows, log, names, problems = result
        if self.model is None or any(r.model_id != self.model.id and r.id not in self.changes.followed for r in rows):
            return  # another model was opened meanwhile
        self.model_names.update(names)
        if problems:
            self.verdict.setText(problems[0])
        selected, self._pending_select = self._pending_select or self.selected_id(), None
        self.endpoints = rows
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        for i, ep in enumerate(rows):
            state = ep.state + (f": {ep.error}" if ep.state == "Failed" and ep.error else "")
            if ep.worker != "local" and ep.state == "Ready" and not ep.url:
                state = "Deploying… (opening the SSH tunnel)"  # serving there, not reachable from here yet
            if ep.id in self.changes.pending:
                state += " (replacing…)" if self.changes.pending[ep.id].kind == "replace" else " (new token…)"
            where = "this machine" + (" (LAN)" if ep.lan else "") if ep.worker == "local" else f"worker {ep.worker}"
            model = self.model_names.get(ep.model_id, ep.model_id)
            for col, text in enumerate((ep.name, model, state, where, ep.backend, ep.url or "—",
                                        masked(self.tokens.get(ep.id)))):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                item.setData(Qt.ItemDataRole.UserRole, ep.id)
                self.table.setItem(i, col, item)
            if ep.id == selected:
                self.table.selectRow(i)
        if selected is None and rows:
            self.table.selectRow(0)
        self.table.blockSignals(False)
        if log and self.log.toPlainText() != log.rstrip("\n"):
            self.log.setPlainText("\n".join(log.rstrip("\n").splitlines()[-LOG_LINES:]))
            self.log.verticalScrollBar().setValue(self.log.verticalScrollBar().maximum())
        self._on_table_selection_changed()
        self._read_metrics()

    def _read_metrics(self) -> None:
        ep = self.selected()
        if ep is None or ep.state != "Ready" or self._reading_metrics or self._manager is None:
            return
        from app.qt.tasks import run_in_background

        self._reading_metrics = True
        eps, endpoint_id = self._manager, ep.id
        run_in_background(lambda: read_endpoint(eps, ep), lambda m: self._on_metrics_read(endpoint_id, m),
                          lambda _e: setattr(self, "_reading_metrics", False))

    def _on_metrics_read(self, endpoint_id: str, reading: MetricsReading | None) -> None:
        self._reading_metrics = False
        if endpoint_id == self._chart_endpoint and reading is not None:
            self.chart.add_reading(reading)

    def selected_id(self) -> str | None:
        """The id of the endpoint selected in the table."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def selected(self) -> Any:
        """The selected endpoint's record (None when none is)."""
        wanted = self.selected_id()
        return next((e for e in self.endpoints if e.id == wanted), None)

    def _on_table_selection_changed(self) -> None:
        ep = self.selected()
        if ep is not None and ep.id != self._chart_endpoint:
            self._chart_endpoint = ep.id
            self.chart.clear()
            self.log.clear()
        url = (ep.url if ep is not None else None) or "http://127.0.0.1:PORT"
        on_worker = ep is not None and ep.worker != "local"
        self.where_note.setVisible(on_worker)
        if on_worker:
            self.where_note.setText(TUNNEL_NOTE.format(worker=ep.worker, port=ep.port or "?",
                                                       url=ep.url or "the local URL (once the tunnel is open)"))
        for box, text in ((self.curl, curl_snippet(url, "$YOLODESK_TOKEN")),
                          (self.python, python_snippet(url, "YOUR_TOKEN"))):
            if box.toPlainText() != text:
                box.setPlainText(text)
        self._update_buttons()

    def _update_buttons(self) -> None:
        ep = self.selected()
        live = ep is not None and ep.state in LIVE
        self.start_button.setEnabled(ep is not None and not live)
        self.stop_button.setEnabled(live and ep.state != "Stopping")
        self.delete_button.setEnabled(ep is not None and not live)  # stop first: deleting never blocks the window
        self.copy_token_button.setEnabled(ep is not None)
        self.copy_snippet_button.setEnabled(ep is not None)
        busy = ep is not None and ep.id in self.changes.pending
        self.replace_button.setEnabled(ep is not None and ep.state == "Ready" and not busy)
        self.rotate_button.setEnabled(ep is not None and not busy)

    # ---------------------------------------------------------------- actions
    def _on_form_deploy_requested(self, request: EndpointRequest) -> None:
        if self._ops is None or self.model is None:
            return
        model_id = self.model.id
        self.form.set_busy(True)
        self._ops.submit(lambda: self._eps().deploy(model_id, worker=request.worker, port=request.port,
                                                    lan=request.lan, backend=request.backend, name=request.name),
                         self._on_deployed, self._on_deploy_failed, "Deploying")

    def _on_deployed(self, deployed: Any) -> None:
        self.form.set_busy(False)
        self.tokens[deployed.endpoint.id] = deployed.token
        self.form.verdict.setText(f"Endpoint {deployed.endpoint.name} made; its state is in the table."
                                  + (f" Note: {deployed.note}" if deployed.note else ""))
        self.table.clearSelection()
        self._pending_select = deployed.endpoint.id
        self.poll()

    def _on_deploy_failed(self, error: Exception) -> None:
        self.form.set_busy(False)
        self.form.verdict.setText(f"Not deployed: {one_line(error)}")

    def _act(self, what: str, fn: Any) -> None:
        ep = self.selected()
        if ep is None or self._ops is None:
            return
        endpoint_id = ep.id
        self.verdict.setText(f"{what} {ep.name}…")
        self._ops.submit(lambda: fn(endpoint_id), lambda _r: self._on_action_done(what),
                         lambda e: self.verdict.setText(f"{what} failed: {one_line(e)}"), what)

    def _on_action_done(self, what: str) -> None:
        self.verdict.setText("")
        self.poll()

    def _on_start_button_clicked(self) -> None:
        self._act("Starting", lambda i: self._eps().start(i))

    def _on_stop_button_clicked(self) -> None:
        self._act("Stopping", lambda i: self._eps().request_stop(i))

    def _on_delete_button_clicked(self) -> None:
        self._act("Deleting", lambda i: self._eps().delete(i))

    def _with_token(self, then: Any) -> None:
        """Hand ``then`` the selected endpoint and its token (the keyring is read off the GUI thread)."""
        ep = self.selected()
        if ep is None:
            return
        if ep.id in self.tokens:
            then(ep, self.tokens[ep.id])
            return
        if self._manager is None:
            return
        from app.qt.tasks import run_in_background

        eps = self._manager

        def arrived(token: str | None) -> None:
            if token:
                self.tokens[ep.id] = token
                then(ep, token)
            else:
                self.verdict.setText(f"The token of {ep.name} is gone; Rotate token makes a new one.")

        run_in_background(lambda: eps.token(ep), arrived,
                          lambda e: self.verdict.setText(f"Reading the token failed: {one_line(e)}"))

    def _on_try_panel_picture_chosen(self, path: str) -> None:
        ep = self.selected()
        if ep is None or ep.state != "Ready" or not ep.url:
            self.try_panel.refuse("Select a Ready endpoint first: the picture is sent to the selected one.")
            return
        self._with_token(lambda e, token: self.try_panel.send(e.url, token, path))

    def _on_copy_token_button_clicked(self) -> None:
        def copy(ep: Any, token: str) -> None:
            QGuiApplication.clipboard().setText(token)
            self.verdict.setText(f"Token of {ep.name} copied.")

        self._with_token(copy)

    def _on_copy_snippet_button_clicked(self) -> None:
        python = self.snippets.currentWidget() is self.python

        def copy(ep: Any, token: str) -> None:
            url = ep.url or "http://127.0.0.1:PORT"
            QGuiApplication.clipboard().setText(python_snippet(url, token) if python else curl_snippet(url, token))
            self.verdict.setText(f"{'Python' if python else 'curl'} snippet with the token copied.")

        self._with_token(copy)

