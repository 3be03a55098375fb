"""Start the window: offline environment, Qt application, library, main window."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.library.repository import Library


def main(argv: list[str] | None = None, paths: list[str] | None = None) -> int:
    import os

    from app.offline import offline_env

    os.environ.update(offline_env())  # inherited by every process the window starts
    from PySide6.QtWidgets import QApplication

    from app import __version__
    from app.paths import resources_dir

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("YOLO Desk")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("YOLODesk")
    app.setDesktopFileName("yolodesk")
    app.setStyle("Fusion")
    from app.qt import gui_thread_gc

    gui_thread_gc.install()  # collection on the GUI thread only (see the module)
    from PySide6.QtGui import QIcon

    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "yolodesk.svg")))
    from app.views.theme import apply_theme

    apply_theme(app)  # the light or dark palette (system or YOLODESK_THEME) and the stylesheet
    lib = open_library_or_ask()
    if lib is None:
        return 1
    from app.views.main_window import MainWindow

    window = MainWindow(lib)
    window.show()
    from app.views.trash.startup_purge import purge_at_start

    purge_at_start(window)  # queued behind the first reads on the library thread: the first draw comes first
    if paths:
        window.add_paths([str(p) for p in paths])
    if os.environ.get("YOLODESK_STARTUP_PROBE"):  # bench/startup.py: report when the window is on screen
        from PySide6.QtCore import QTimer

        def probe() -> None:
            import time

            heavy = [m for m in ("torch", "ultralytics", "cv2", "pyqtgraph") if m in sys.modules]
            print(f"WINDOW_SHOWN {time.time():.6f} {','.join(heavy) or 'none'}", flush=True)
            app.quit()

        QTimer.singleShot(0, probe)
    code = app.exec()
    lib.close()
    return code


CHOOSE_ANOTHER = "Choose another library folder…"


def open_library_or_ask(home: Path | None = None) -> Library | None:
    """Open the library before any window exists; when it cannot be opened, ask: another folder, or quit.

    Opening waits at most a few seconds on a foreign lock (``db.READ_TIMEOUT_S``), so the
    question comes quickly; nothing is written to a database that cannot be opened. A
    chosen folder becomes the library home for this run (``YOLODESK_HOME``, inherited by
    the processes the window starts). Returns None when the user quits.
    """
    import os

    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from app.library.db import LibraryUnavailable, SchemaTooNew
    from app.library.repository import Library
    from app.paths import library_home

    home = Path(home) if home is not None else library_home()
    while True:
        try:
            return Library(home)
        except (LibraryUnavailable, SchemaTooNew, OSError) as e:
            problem = str(e) if not isinstance(e, OSError) else f"The library in {home} could not be opened: {e}"
        box = QMessageBox(QMessageBox.Icon.Warning, "YOLO Desk", "The library cannot be opened.")
        box.setInformativeText(problem)
        choose = box.addButton(CHOOSE_ANOTHER, QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is not choose:
            return None
        picker = QFileDialog(None, "Choose a library folder", str(home.parent))
        picker.setFileMode(QFileDialog.FileMode.Directory)
        picker.setOption(QFileDialog.Option.ShowDirsOnly, True)
        picker.setOption(QFileDialog.Option.DontUseNativeDialog, True)  # the same dialog everywhere (and in tests)
        if picker.exec() and picker.selectedFiles():
            home = Path(picker.selectedFiles()[0])
            os.environ["YOLODESK_HOME"] = str(home)


if __name__ == "__main__":
    sys.exit(main())
