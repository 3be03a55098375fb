"""Start the window: offline environment, Qt application, library, main window."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    import os

    from app.offline import offline_env

    os.environ.update(offline_env())  # inherited by every process the window starts
    from PySide6.QtWidgets import QApplication, QMessageBox

    from app import __version__
    from app.library.db import SchemaTooNew
    from app.library.repository import Library
    from app.paths import resources_dir

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("YOLO Desk")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("YOLODesk")
    app.setDesktopFileName("yolodesk")
    app.setStyle("Fusion")
    app.setStyleSheet((resources_dir() / "styles" / "app.qss").read_text(encoding="utf-8"))
    try:
        lib = Library.open_default()
    except SchemaTooNew as e:
        QMessageBox.critical(None, "YOLO Desk", str(e))
        return 1
    except OSError as e:
        QMessageBox.critical(None, "YOLO Desk", f"The library could not be opened: {e}")
        return 1
    from app.views.main_window import MainWindow

    window = MainWindow(lib)
    window.show()
    if os.environ.get("YOLODESK_STARTUP_PROBE"):  # bench/startup.py: report when the window is on screen
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, lambda: (print(f"WINDOW_SHOWN {__import__('time').time():.6f}", flush=True), app.quit()))
    code = app.exec()
    lib.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
