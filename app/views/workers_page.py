"""Workers: GPU boxes reached over SSH. Add one, test it (trust its host key the first time), see what it has.

Every network step (connect, upload the agent, ``info``, installing packages) runs on the thread
pool; the page shows "Testing…" meanwhile and the answer when it comes.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QFrame, QHBoxLayout, QLabel, QLineEdit, QMessageBox,
    QPushButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget,
)

from app.jobs.ray_options import RayOptionError
from app.jobs.slurm_batch import SlurmOptionError
from app.jobs.ssh import HostKeyChanged, HostKeyUnknown, resolve
from app.jobs.workers import Probe, WorkerRecord, WorkerStore, install_packages, judge, probe
from app.library.repository import Library
from app.qt.library_ops import LibraryOps
from app.qt.tasks import run_in_background
from app.views.worker_kind_fields import WorkerKindFields, add_worker
from app.widgets.ansi_console import AnsiConsole
from app.widgets.badge import Badge

EMPTY_STATE = ("<div style='font-size:15pt; font-weight:600'>No workers yet</div>"
               "<p>Press <b>Add worker…</b>: an SSH host (an alias from ~/.ssh/config works), a Slurm login node<br>"
               "or a Ray cluster's head. Trainings, exports and validations can then run there.</p>")

def _gib(n: float | None) -> str:
    return f"{(n or 0) / 2**30:.0f} GiB"


class WorkerCard(QFrame):
    """One worker: where it is, what it has, what is missing; Test, Install packages, Remove."""

    testRequested = Signal(str)
    installRequested = Signal(str)
    removeRequested = Signal(str)

    def __init__(self, worker: WorkerRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.name = worker.name
        title = QLabel(f"<b>{html.escape(worker.name)}</b>")
        title.setObjectName("sectionTitle")
        self.state = Badge("worker")
        ep = worker.endpoint()
        kind = "  ·  Slurm login node" if worker.kind == "slurm" else ""
        where = QLabel(f"{html.escape(ep.describe())}{kind}  ·  {html.escape(worker.python)}"
                       + (f"  ·  key {html.escape(worker.key_path)}" if worker.key_path else "  ·  ssh-agent / ~/.ssh keys"))
        where.setObjectName("muted")
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_button = QPushButton("Test")
        self.test_button.setToolTip("Connect, check the host key, install or update the agent, ask what it has")
        self.test_button.clicked.connect(lambda: self.testRequested.emit(self.name))
        self.install_button = QPushButton("Install packages")
        self.install_button.setToolTip("Create ~/.yolodesk-agent/venv on the worker (seeing its own torch) and pip "
                                       "install ultralytics at this app's version there")
        self.install_button.clicked.connect(lambda: self.installRequested.emit(self.name))
        remove = QPushButton("Remove")
        remove.setObjectName("danger")
        remove.clicked.connect(lambda: self.removeRequested.emit(self.name))
        head = QHBoxLayout()
        head.addWidget(title)
        head.addWidget(self.state)
        head.addStretch(1)
        for b in (self.test_button, self.install_button, remove):
            head.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(where)
        lay.addWidget(self.facts)
        self.show_worker(worker)

    def show_worker(self, worker: WorkerRecord, busy: str | None = None) -> None:
        info = worker.info
        problems, notes = judge(info) if info else ([worker.last_error] if worker.last_error else [], [])
        if busy:
            self.state.set_text(busy)
        elif worker.tested_at is None:
            self.state.set_text("Untested")
        elif problems or worker.last_error:
            self.state.set_text("Needs attention")
        else:
            self.state.set_text("Ready")
        self.test_button.setEnabled(busy is None)
        self.install_button.setEnabled(busy is None and worker.tested_at is not None)
        lines = []
        if info:
            lines.append(f"{html.escape(str(info.get('platform')))} · Python {info.get('python')} · "
                         f"torch {info.get('torch') or '—'} · ultralytics {info.get('ultralytics') or '—'}")
            lines.append(f"{info.get('cpu_count')} CPUs · {_gib(info.get('ram_total'))} RAM · "
                         f"{_gib(info.get('disk_free'))} free disk")
            for g in worker.gpus:
                lines.append(f"<b>GPU {g['index']}</b>: {html.escape(g['name'])} ({_gib(g.get('memory'))})")
        for p in problems if info else ([worker.last_error] if worker.last_error else []):
            lines.append(f"<span style='color:#b91c1c'>✗ {html.escape(p)}</span>")
        for n in notes:
            lines.append(f"<span style='color:#6b7280'>· {html.escape(n)}</span>")
        if worker.tested_at:
            lines.append(f"<span style='color:#6b7280'>tested {worker.tested_at:%Y-%m-%d %H:%M} UTC</span>")
        self.facts.setText("<br>".join(lines) or "Not tested yet: press Test.")


class AddWorkerDialog(QDialog):
    """Name, host (an ~/.ssh/config alias works), port, user, key file, the worker's Python."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add worker")
        self.name = QLineEdit()
        self.name.setPlaceholderText("gpu-box")
        self.host = QLineEdit()
        self.host.setPlaceholderText("an alias of ~/.ssh/config, a host name or an address")
        self.host.editingFinished.connect(self._on_host_editing_finished)
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("from ~/.ssh/config, else 22")
        self.user = QLineEdit()
        self.user.setPlaceholderText(os.environ.get("USER", ""))
        self.key = QLineEdit()
        self.key.setPlaceholderText("empty: the ssh-agent and ~/.ssh/id_* keys")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._on_browse_clicked)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.browse)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("only if needed: kept in the OS keyring, never in a file")
        self.python = QLineEdit("python3")
        self.python.setToolTip("The interpreter with torch on the worker, e.g. /opt/torch/.venv/bin/python3")
        self.resolved = QLabel()
        self.resolved.setObjectName("muted")
        self.error = QLabel()
        self.error.setStyleSheet("color:#b91c1c")
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Host", self.host)
        form.addRow("", self.resolved)
        form.addRow("Port", self.port)
        form.addRow("User", self.user)
        form.addRow("Key file", key_row)
        form.addRow("Password / passphrase", self.secret)
        form.addRow("Python", self.python)
        self.kind_fields = WorkerKindFields(self)
        self.kind_fields.add_rows(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add and test")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        self.port.valueChanged.connect(self._on_host_editing_finished)  # the resolved line shows the port chosen
        self.resolved.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.values: dict | None = None
        self.setMinimumWidth(self._width_for_whole_text(form))

    def _width_for_whole_text(self, form: QFormLayout) -> int:
        """Wide enough that no placeholder, special value or label is cut, at the current font and scale."""
        def advance(widget: QWidget, text: str) -> int:
            widget.ensurePolished()  # the style sheet's font size, not the default one, is what will be drawn
            return widget.fontMetrics().horizontalAdvance(text)

        text_margins = 40  # the stylesheet's padding and border plus Qt's own frame margin, with room to spare
        fields = [self.name, self.host, self.user, self.secret, self.python, *self.kind_fields.placeholder_fields()]
        needed = [advance(f, f.placeholderText() or f.text()) + text_margins for f in fields]
        needed.append(advance(self.key, self.key.placeholderText()) + text_margins + self.browse.sizeHint().width()
                      + form.horizontalSpacing())
        needed.append(advance(self.port, self.port.specialValueText()) + 48)  # the arrows take ~40 px
        label_column = max(advance(self, form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget().text())
                           for row in range(form.rowCount())
                           if form.itemAt(row, QFormLayout.ItemRole.LabelRole) is not None)
        margins = self.contentsMargins().left() + self.contentsMargins().right() + 2 * form.horizontalSpacing() + 24
        return max(needed) + label_column + margins

    def _on_host_editing_finished(self) -> None:
        host = self.host.text().strip()
        if not host:
            self.resolved.setText("")
            return
        ep = resolve(host, self.port.value() or None)
        self.resolved.setText(f"→ {ep.describe()}" + (f" via {ep.proxy_jump}" if ep.proxy_jump else "")
                              + (f", key {ep.key_files[0]}" if ep.key_files else ""))

    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Private key", str(Path.home() / ".ssh"))
        if path:
            self.key.setText(path)

    def _on_buttons_accepted(self) -> None:
        if not self.name.text().strip() or not self.host.text().strip():
            self.error.setText("A name and a host are needed.")
            return
        name = self.name.text().strip()
        try:
            kind, options = self.kind_fields.values()
        except (SlurmOptionError, RayOptionError) as e:
            self.error.setText(str(e))
            return
        auth = None
        if self.secret.text():
            from app.jobs.secrets import NoKeyring, store_secret

            try:
                store_secret(name, self.secret.text())
            except NoKeyring as e:
                self.error.setText(str(e))
                return
            auth = "password"
        self.values = {"name": name, "host": self.host.text().strip(),
                       "port": self.port.value() or None, "user": self.user.text().strip() or None,
                       "key_path": self.key.text().strip() or None, "python": self.python.text().strip() or "python3",
                       "auth": auth, "kind": kind, "options": options, **self.kind_fields.secrets()}
        self.accept()


class _Relay(QObject):
    text = Signal(str)


class WorkersPage(QWidget):
    """The list of workers and the add / test / trust / install / remove flows."""

    workersChanged = Signal()

    def __init__(self, lib: Library, ops: LibraryOps, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = WorkerStore(lib)
        self.ops = ops  # the window's library thread: the page never reads the library itself
        self.cards: dict[str, WorkerCard] = {}
        self.workers: dict[str, WorkerRecord] = {}  # as last read
        title = QLabel("Workers")
        title.setObjectName("pageTitle")
        blurb = QLabel("GPU boxes reached over SSH, Slurm clusters and Ray clusters. Trainings, exports and "
                       "validations run there with the same live console, charts and verification as here; a "
                       "dropped link does not stop them.")
        blurb.setObjectName("muted")
        blurb.setWordWrap(True)
        self.add_button = QPushButton("Add worker…")
        self.add_button.setObjectName("primary")
        self.add_button.clicked.connect(self._on_add_clicked)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.add_button)
        self.list = QVBoxLayout()
        self.list.setSpacing(10)
        self.empty = QLabel(EMPTY_STATE)  # a centred box as on the Trash and Datasets pages (a grey line was missed)
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setMinimumHeight(220)
        holder = QWidget()
        hl = QVBoxLayout(holder)
        hl.addWidget(self.empty)
        hl.addLayout(self.list)
        hl.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(holder)
        scroll.setStyleSheet("QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; }")
        self.console = AnsiConsole()
        self.console.setVisible(False)
        self.console.setMaximumHeight(220)
        self.relay = _Relay(self)
        self.relay.text.connect(self.console.append_text)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(18, 14, 18, 14)
        lay.addLayout(head)
        lay.addWidget(blurb)
        lay.addWidget(scroll, 1)
        lay.addWidget(self.console)
        self.refresh()

    def refresh(self) -> None:
        """Read the workers on the library thread, then show them."""
        self.ops.submit(self.store.list, self.show_workers, what="Listing the workers")

    def show_workers(self, workers: list[WorkerRecord]) -> None:
        """One card per worker, as read."""
        self.workers = {w.name: w for w in workers}
        names = {w.name for w in workers}
        for name in list(self.cards):
            if name not in names:
                card = self.cards.pop(name)
                self.list.removeWidget(card)
                card.deleteLater()
        for w in workers:
            card = self.cards.get(w.name)
            if card is None:
                card = WorkerCard(w)
                card.testRequested.connect(self.test)
                card.installRequested.connect(self._on_card_install_requested)
                card.removeRequested.connect(self._on_card_remove_requested)
                self.cards[w.name] = card
                self.list.addWidget(card)
            else:
                card.show_worker(w)
        self.empty.setVisible(not workers)

    # ------------------------------------------------------------------ flows
    def _on_add_clicked(self) -> None:
        dialog = AddWorkerDialog(self)
        dialog.finished.connect(lambda result: self._on_add_dialog_finished(dialog, result))
        dialog.open()

    def _on_add_dialog_finished(self, dialog: AddWorkerDialog, result: int) -> None:
        dialog.deleteLater()
        if not result or dialog.values is None:
            return
        values = dict(dialog.values)
        ray_token = values.pop("ray_token", None)  # a Ray worker's Jobs API token: a secret, never a DB column
        self.ops.submit(lambda: add_worker(self.store, values, ray_token), self._on_worker_added,
                        lambda e: QMessageBox.warning(self, "Add worker", str(e)))

    def _on_worker_added(self, w: WorkerRecord) -> None:
        self.show_workers([*self.workers.values(), w])
        self.refresh()
        self.workersChanged.emit()
        self.test(w.name)

    def test(self, name: str, trust: str | None = None) -> None:
        card, shown = self.cards.get(name), self.workers.get(name)
        if card is not None and shown is not None:
            card.show_worker(shown, busy="Testing…")
        run_in_background(lambda: probe(self.store, name, trust=trust), lambda p: self._on_probe_done(name, p),
                          lambda e: self._on_probe_failed(name, e))

    def _on_probe_done(self, name: str, _probe: Probe) -> None:
        self.refresh()
        self.workersChanged.emit()

    def _on_probe_failed(self, name: str, error: Exception) -> None:
        self.refresh()
        if isinstance(error, HostKeyUnknown):
            self.ask_trust(name, error)
        elif isinstance(error, HostKeyChanged):
            QMessageBox.critical(self, "Host key changed — connection refused", str(error))
        else:  # non-blocking: the card shows the same line, and the page stays usable behind it
            box = QMessageBox(QMessageBox.Icon.Warning, f"Test {name}", str(error), parent=self)
            box.setObjectName("testFailed")
            box.open()

    def ask_trust(self, name: str, error: HostKeyUnknown) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, "Trust this worker?",
                          f"This is the first connection to <b>{html.escape(error.host)}</b>.<br><br>"
                          f"Its {html.escape(error.key.get_name())} host key fingerprint is<br>"
                          f"<code>{error.fingerprint}</code><br><br>"
                          "Compare it with what the worker shows "
                          "(<code>ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</code>). Trust it only if they "
                          "match: YOLO Desk will then refuse this host if its key ever changes.", parent=self)
        trust = box.addButton("Trust and connect", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("trustPrompt")
        box.finished.connect(lambda _r: box.clickedButton() is trust and self.test(name, trust=error.fingerprint))
        box.open()

    def _on_card_install_requested(self, name: str) -> None:
        card, shown = self.cards.get(name), self.workers.get(name)
        if card is not None and shown is not None:
            card.show_worker(shown, busy="Installing…")
        self.console.reset()
        self.console.setVisible(True)

        def done(_w: WorkerRecord) -> None:
            self.relay.text.emit("\n\x1b[32m✓ installed; testing the worker again\x1b[0m\n")
            self.test(name)

        def failed(e: Exception) -> None:
            self.relay.text.emit(f"\n\x1b[31m✗ {e}\x1b[0m\n")
            self.refresh()

        run_in_background(lambda: install_packages(self.store, name, self.relay.text.emit), done, failed)

    def _on_card_remove_requested(self, name: str) -> None:
        answer = QMessageBox.question(self, "Remove worker", f"Remove the worker {name}? Files on it stay there.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.ops.submit(lambda: self.store.remove(name), lambda _r: (self.refresh(), self.workersChanged.emit()),
                        lambda e: QMessageBox.warning(self, "Remove worker", str(e)))
