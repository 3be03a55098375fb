"""Import the model page's heavy widget libraries (superqt, pyqtgraph) and its modules on a thread after start-up.

Imported on the GUI thread when the first model opened, they stalled the window ~0.6 s. A thread shares the GIL
in 5 ms slices, so the event loop keeps turning; only numpy's C core (~0.1 s, once) holds it longer. Start-up
stays free of them: the thread begins a moment after the window is shown (bench/startup.py checks).
"""

from __future__ import annotations

import importlib
import threading

from PySide6.QtCore import QObject, QTimer

# What the first model page imports, heaviest first, then the modules of its tabs made later (Train, Validation,
# Deploy); importing a module creates no widget (classes only)
MODULES = ("superqt", "pyqtgraph", "app.views.model_page", "app.views.predict_tab", "app.views.export_controller",
           "app.views.predict.backend_finder", "app.views.train_tab", "app.views.validation_tab",
           "app.views.deploy_tab")
DELAY_MS = 200  # after the window's first paint, so that start-up's own figures stay as they were


def import_page_modules() -> None:
    """Import :data:`MODULES` (one that fails is left to fail where it is used, with its own message)."""
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 (the GUI thread's own import reports it, where it matters)
            continue


def warm_up_later(owner: QObject) -> None:
    """Start :func:`import_page_modules` on a daemon thread :data:`DELAY_MS` after the event loop runs."""
    QTimer.singleShot(DELAY_MS, owner, _start_thread)


def _start_thread() -> None:
    threading.Thread(target=import_page_modules, name="warm-imports", daemon=True).start()
