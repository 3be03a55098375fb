"""What the screenshot scripts share: the styled app, the main window on a library, and event pumping."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def fresh_home(no_ssh_config: bool = False) -> Path:
    """A new empty library home set as $YOLODESK_HOME, with the app's offline environment (and, when asked, an
    SSH config that does not exist, so the user's own hosts never show in a picture)."""
    home = Path(tempfile.mkdtemp(prefix="yd-shoot-"))
    os.environ["YOLODESK_HOME"] = str(home)
    if no_ssh_config:
        os.environ["YOLODESK_SSH_CONFIG"] = str(home / "no-ssh-config")
    from app.offline import offline_env

    os.environ.update(offline_env(home))
    return home


def checkpoints() -> Path:
    """The tests' tiny trained checkpoints of all five tasks (and their manifest), or exit saying how to make them."""
    found = sorted((ROOT / "tests" / ".cache").glob("checkpoints-*/manifest.json"))
    if not found:
        sys.exit("no checkpoints: run the tests once (tests/fixtures/make_checkpoints.py makes them)")
    return found[-1].parent


@dataclass
class Session:
    app: Any
    window: Any

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.02)

    def open_tab(self, lib: Any, model_ref: str, tab: str) -> tuple[Any, Any]:
        """Open a model (id or name) and one of its tabs (``predict``, ``export``, …); (model, tab widget)."""
        model = lib.find_model(model_ref)
        self.window.open_model(model.id)
        widget = getattr(self.window.model_page, tab)
        self.window.model_page.tabs.setCurrentWidget(widget)
        return model, widget

    def open_predict(self, model_id: str, ready: Callable[[Any], bool] | None = None) -> Any:
        """Open a model on its Predict tab and wait until the runtime is loaded (and ``ready(tab)``); the tab."""
        self.window.open_model(model_id, tab="predict")  # read on the library thread, then shown on Predict
        page = self.window.model_page
        self.until(lambda: page.tabs.currentWidget() is page.predict, 60)
        tab = page.predict
        self.until(lambda: tab.readout.text().endswith("ready") and (ready is None or ready(tab)), 180)
        return tab

    def until(self, cond: Callable[[], Any], seconds: float = 60) -> None:
        end = time.monotonic() + seconds
        while not cond() and time.monotonic() < end:
            self.pump(0.2)


def open_default() -> tuple[Any, Session]:
    """The library at $YOLODESK_HOME (offline, as the app runs) and the window on it."""
    from app.offline import apply_offline

    apply_offline()
    from app.library.repository import Library

    lib = Library.open_default()
    return lib, open_window(lib)


def open_window(lib: Any) -> Session:
    """A QApplication with YOLO Desk's style and the main window (1280×800 logical pixels) on ``lib``, shown."""
    from PySide6.QtWidgets import QApplication

    from app.views.theme import apply_theme
    from app.views.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)  # as the app starts: Fusion, the light or dark palette (YOLODESK_THEME), the stylesheet
    w = MainWindow(lib)
    w.confirm_close = False
    w.resize(1280, 800)
    w.show()
    return Session(app, w)


PNG_LIMIT = 300_000  # bytes: the README's pictures stay light to clone


def save_png(widget: Any, path: Any) -> int:
    """Grab ``widget`` into ``path`` as PNG, reduced to 256 colours when it would pass PNG_LIMIT; bytes written."""
    from pathlib import Path

    path = Path(path)
    widget.grab().save(str(path))
    if path.stat().st_size > PNG_LIMIT * 0.8:
        from PIL import Image

        with Image.open(path) as im:
            rgb = im.convert("RGB")
        for colours in (256, 128, 64):  # fewer colours only for a picture (noise, photos) still too heavy
            rgb.quantize(colours, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)
            if path.stat().st_size <= PNG_LIMIT:
                break
    return path.stat().st_size


def shoot_train_with_jobs(session: Any, model_id: str, path: Any) -> None:
    """The model's Train tab with the Jobs panel open, saved to ``path`` once the window has read everything."""
    w, pump = session.window, session.pump
    w.open_model(model_id)
    session.until(lambda: w.current_model_id == model_id, 20)
    w.model_page.tabs.setCurrentWidget(w.model_page.train)
    w.show_jobs_panel()
    pump(1.5)
    w.ops.wait_idle()
    pump(0.5)
    print("saved", save_png(w, path))
