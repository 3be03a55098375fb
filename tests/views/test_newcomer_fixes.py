"""Small things a newcomer trips over: an empty error bar, a cut-off wait reason, the Predict tab's first seconds."""

from __future__ import annotations

from app.views.validation.validate_dialog import ValidateDialog


def test_the_validate_dialog_shows_its_error_bar_only_with_a_message(qtbot, tmp_path):
    dialog = ValidateDialog(None, [], None)  # no linked data set: the data.yaml choice is the one checked
    qtbot.addWidget(dialog)
    assert not dialog.problem.isVisibleTo(dialog)  # no pink bar before anything is wrong
    dialog._on_buttons_accepted()  # no path given
    assert dialog.problem.isVisibleTo(dialog) and dialog.problem.text().startswith("Pick a data.yaml")
    assert dialog.result() == 0  # still open with its input
    dialog.path.textEdited.emit(str(tmp_path / "data.yaml"))  # the user types: the old verdict goes
    assert not dialog.problem.isVisibleTo(dialog) and dialog.problem.text() == ""


def test_a_long_wait_reason_is_shown_whole_under_a_narrow_train_head(qtbot, lib):
    from app.jobs.store import JobStore
    from app.views.train_tab import TrainTab

    store = JobStore(lib)
    model = lib.create_pending_model(lib.default_project_id, "waiting", task="detect", status="Queued")
    job = store.create("train", {"args": {}}, lib.default_project_id, model.id, owner_pid=1, worker="any-gpu:8")
    reason = ("box: no GPU; hpc: every node busy; lab-2: GPU 0 has 3.1 GiB free of 24 GiB, "
              "GPU 1 has 2.0 GiB free of 24 GiB")
    # what the placer writes on a target job's row while no worker has a GPU free
    job = store.set(job.id, result={"placement": {"waiting": reason, "need": 8 * 2**30}})
    tab = TrainTab()
    qtbot.addWidget(tab)
    tab.resize(700, 500)
    tab.show()
    tab.show_model(lib.model(model.id), job)
    whole = tab.title.text()
    assert whole.endswith(reason) and tab.title.toolTip() == whole
    qtbot.waitUntil(lambda: tab.title.is_elided(), timeout=2000)  # 700 px: the head cuts it
    assert tab.title_detail.isVisible() and tab.title_detail.text() == whole  # in full, wrapped, on the tab
    tab.resize(3000, 500)  # wide enough: the head says it all, no second line
    qtbot.waitUntil(lambda: not tab.title_detail.isVisible(), timeout=2000)
    assert not tab.title.is_elided()
    tab.stop_stream()
