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


def test_the_camera_list_says_when_there_is_no_camera(qtbot):
    from app.predict.sources import Camera
    from app.views.predict.source_bar import LOOKING_FOR_CAMERAS, NO_CAMERA, SourceBar

    bar = SourceBar()
    qtbot.addWidget(bar)
    assert bar.camera.currentText() == LOOKING_FOR_CAMERAS and not bar.camera.isEnabled()  # not blank meanwhile
    bar.set_cameras([])
    assert bar.camera.count() == 1 and bar.camera.currentText() == NO_CAMERA
    assert not bar.camera.model().item(0).isEnabled() and bar.camera_index() is None  # an entry, not a choice
    bar.update_buttons(0, live=False)
    assert not bar.live_button.isEnabled()
    bar.set_cameras([Camera(2, "USB Camera")])
    assert bar.camera.isEnabled() and bar.camera.currentText() == "2: USB Camera" and bar.camera_index() == 2


def test_the_predict_tab_says_it_starts_its_helper_and_cues_its_load_only_when_seen(qtbot, job_window, lib,
                                                                                    checkpoints):
    from app.views.predict.backend_finder import STARTING_HELPER, STARTING_HELPER_WHY
    from app.predict.sources import list_cameras
    from app.views.predict.source_bar import NO_CAMERA
    from app.views.predict_tab import LOADING

    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    job_window.open_model(model.id)
    job_window.ops.wait_idle()
    page = job_window.model_page
    tab = page.predict
    assert tab.engine.helper_pid() is None  # a fresh tab: no helper yet
    page.tabs.setCurrentWidget(tab)
    # the helper's start and torch import take seconds: the tab names them, not a bare "finding backends…"
    qtbot.waitUntil(lambda: tab.backend.currentText() == STARTING_HELPER, timeout=10000)
    assert tab.readout.text() == STARTING_HELPER_WHY
    assert model.imgsz == 64 and tab.imgsz.value() == 64  # the size it was trained at while it loads, not 640
    cues: list[bool] = []
    tab.busyChanged.connect(lambda what, going: cues.append(going) if what == LOADING else None)
    page.tabs.setCurrentWidget(page.overview)  # the user moves on before the model starts loading
    qtbot.waitUntil(lambda: tab.readout.text().endswith("ready"), timeout=60000)  # it loaded meanwhile
    assert True not in cues and LOADING not in job_window.busy.going  # no "Loading…" cue over another tab
    if not list_cameras():  # a machine with no camera says so (one with a camera lists it)
        assert tab.sources.camera.currentText() == NO_CAMERA
    job_window.queue.shutdown()


def test_the_input_size_offered_is_the_one_the_model_was_trained_at():
    from app.views.predict.controls_bar import IMGSZ_DEFAULT, model_input_size

    assert model_input_size(320) == 320
    assert model_input_size([480, 640]) == 640  # a rectangle: ultralytics trains a square of the larger side
    assert model_input_size(None) == model_input_size("x") == model_input_size([]) == IMGSZ_DEFAULT == 640


def test_another_model_takes_the_last_ones_loading_cue_with_it(qtbot, lib, checkpoints):
    from app.predict.session import BackendChoice
    from app.views.predict_tab import LOADING, PredictTab

    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    training = lib.create_pending_model(lib.default_project_id, "still-training", task="detect", status="Running")
    tab = PredictTab()
    qtbot.addWidget(tab)
    tab.show()
    cues: list[bool] = []
    tab.busyChanged.connect(lambda what, going: cues.append(going) if what == LOADING else None)
    try:
        tab.show_model(model, trusted=False)
        tab.set_backends([BackendChoice("PyTorch", "pt", str(model.weights_path), None, True)])
        assert cues == [True]  # loading, on the tab the user sees
        tab.hide()
        tab.show()  # away and back while it still loads: the cue goes with the tab and comes back with it
        assert cues == [True, False, True]
        tab.show_model(lib.model(training.id), trusted=False)  # no weights: nothing loads for it
        assert cues == [True, False, True, False]  # the first one's load no longer holds the status bar
    finally:  # the predict helper never outlives a failed test
        tab.shutdown()
