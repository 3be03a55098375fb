"""The Deploy tab's “Replace model…” and “Rotate token”: changes to a running endpoint, without restarting it.

Each is asked on the library thread (``app.deploy.endpoint_control``: a control file for the endpoint's agent) and
its answer looked for every :data:`CHECK_MS` on a timer, one quick library-thread call each time, so the library
thread is never held while a new model loads. Confirmations are window-modal boxes opened without blocking.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox

from app.views.deploy.replace_dialog import ReplaceCandidate, ReplaceDialog

CHECK_MS = 300
ROTATE_WARNING = ("Rotate the token of {name}? The old token stops working now: every client still sending it "
                  "gets 403 until it has the new one.")


def one_line(error: BaseException) -> str:
    """An error as one sentence for the user."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class EndpointChanges(QObject):
    """Replace / rotate for ``tab`` (a DeployTab); ``pending`` holds the requests not yet answered."""

    def __init__(self, tab: Any) -> None:
        super().__init__(tab)
        self.tab = tab
        self.pending: dict[str, Any] = {}  # endpoint id → ControlRequest
        self.followed: set[str] = set()  # endpoints whose model was replaced from here: still listed in this tab
        self.dialog: ReplaceDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self._checking = False
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_MS)
        self.timer.timeout.connect(self._check)

    # ----------------------------------------------------------------- replace
    def replace_selected(self) -> None:
        """Read the candidates on the library thread, then open the dialog."""
        ep = self.tab.selected()
        if ep is None or self.tab.ops is None:
            return
        self.tab.verdict.setText(f"Reading the models {ep.name} could serve…")
        self.tab.ops.submit(lambda: _candidates(self.tab.eps(), ep), lambda c: self._on_candidates_read(ep, c),
                            lambda e: self.tab.verdict.setText(f"Replace failed: {one_line(e)}"), "Reading models")

    def _on_candidates_read(self, ep: Any, candidates: list[ReplaceCandidate]) -> None:
        if not candidates:
            self.tab.verdict.setText(f"No other model of the library has the task of {ep.name}'s model.")
            return
        self.tab.verdict.setText("")
        self.dialog = ReplaceDialog(ep.name, candidates, self.tab)
        self.dialog.accepted.connect(lambda: self._on_dialog_accepted(ep))
        self.dialog.open()

    def _on_dialog_accepted(self, ep: Any) -> None:
        assert self.dialog is not None
        picked = self.dialog.choice()
        name = self.dialog.model.currentText()
        self.dialog.deleteLater()
        self.dialog = None
        if picked is None:
            return
        model_id, fmt = picked
        self.tab.verdict.setText(f"Replacing: {ep.name} loads and warms {name}, then switches…")
        self.followed.add(ep.id)

        def ask() -> Any:
            from app.deploy.endpoint_control import request_replace

            return request_replace(self.tab.eps(), ep.id, model_id, fmt)

        self.tab.ops.submit(ask, self._on_asked, lambda e: self._on_refused("Not replaced", e), "Replacing the model")

    # ------------------------------------------------------------------ rotate
    def rotate_selected(self) -> None:
        """Confirm, then hand the endpoint a new token (the old one is refused from the next request)."""
        ep = self.tab.selected()
        if ep is None or self.tab.ops is None:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Rotate token", ROTATE_WARNING.format(name=ep.name),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self.tab)
        box.button(QMessageBox.StandardButton.Yes).setText("Rotate")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda result: self._on_confirm_finished(ep, result))
        self.confirm_box = box
        box.open()

    def _on_confirm_finished(self, ep: Any, result: int) -> None:
        if self.confirm_box is not None:
            self.confirm_box.deleteLater()
            self.confirm_box = None
        if result != QMessageBox.StandardButton.Yes:
            return
        self.tab.verdict.setText(f"Rotating the token of {ep.name}…")

        def ask() -> Any:
            from app.deploy.endpoint_control import request_rotation

            return request_rotation(self.tab.eps(), ep.id)

        self.tab.ops.submit(ask, self._on_asked, lambda e: self._on_refused("Token not rotated", e), "Rotating")

    # ----------------------------------------------------------------- answers
    def _on_asked(self, request: Any) -> None:
        if request.token:
            self.tab.tokens[request.endpoint_id] = request.token  # kept already: Copy token gives the new one
        self.pending[request.endpoint_id] = request
        self.timer.start()
        self._check()

    def _check(self) -> None:
        if not self.pending:
            self.timer.stop()
            return
        if self._checking or self.tab.ops is None:
            return
        self._checking = True
        requests = list(self.pending.values())

        def look() -> list[tuple[Any, Any, Exception | None]]:
            from app.deploy.endpoint_control import answer

            out: list[tuple[Any, Any, Exception | None]] = []
            for r in requests:
                try:
                    out.append((r, answer(self.tab.eps(), r), None))
                except Exception as e:  # noqa: BLE001 — the agent's refusal, shown as one sentence
                    out.append((r, None, e))
            return out

        self.tab.ops.submit(look, self._on_answers, self._on_check_failed, "Waiting for the endpoint")

    def _on_check_failed(self, error: Exception) -> None:
        self._checking = False
        self.tab.verdict.setText(f"Could not read the endpoint's answer: {one_line(error)}")

    def _on_answers(self, answers: list[tuple[Any, Any, Exception | None]]) -> None:
        self._checking = False
        for request, ep, error in answers:
            if error is None and ep is None:
                continue  # not answered yet
            self.pending.pop(request.endpoint_id, None)
            if error is not None:
                self._on_refused("Not replaced" if request.kind == "replace" else "Token not rotated", error)
            elif request.kind == "replace":
                self.tab.verdict.setText(f"{ep.name} now serves {request.model_name} ({ep.backend}); "
                                         "its URL and token are unchanged.")
            else:
                self.tab.verdict.setText(f"{ep.name} has a new token; the old one is refused from now on. "
                                         "Copy token gives the new one.")
            self.tab.poll()
        if not self.pending:
            self.timer.stop()

    def _on_refused(self, what: str, error: Exception) -> None:
        self.tab.verdict.setText(f"{what}: {one_line(error)}")
        self.tab.poll()


def _candidates(eps: Any, ep: Any) -> list[ReplaceCandidate]:
    """Library thread: the other models of the endpoint's task, each with its runtimes on the endpoint's machine."""
    current = eps.lib.model(ep.model_id)
    out = []
    for m in eps.lib.models():
        if m.id == current.id or m.task != current.task or not m.weights_path:
            continue
        choices = eps.choices(m.id) if ep.worker == "local" else eps.choices(m.id)[-1:]  # a worker: the .pt
        runtimes = [(c.name + (" (verified export)" if c.verified and c.format != "pt" else ""), c.format)
                    for c in choices]
        if runtimes:
            out.append(ReplaceCandidate(m.id, m.name, runtimes))
    return out

