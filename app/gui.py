"""Start the window: offline environment, Qt application, library, main window."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None, paths: list[str] | None = None) -> int:
    import os

    from app.offline import offline_env

    os.environ.update(offline_env())  # inherited by every process the window starts
    from PySide6.QtWidgets import QApplication, QMessageBox

    from app import __version__
    from app.library.db import SchemaTooNew
    from app.library.repository import Library
    from app.paths import resources_dir

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("YOLO Desk")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("YOLODesk")
    app.setDesktopFileName("yolodesk")
    app.setStyle("Fusion")
    from PySide6.QtGui import QIcon

    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "yolodesk.svg")))
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


if __name__ == "__main__":
    sys.exit(main())
