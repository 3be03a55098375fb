"""Screenshots of clone and move: the project table's context menu (Clone to project ▸) and the window after a
model was dropped on a sidebar project (the status bar's "Cloned … — Open", the model page's Clone… button).

Run under Xvfb: ``xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_clone.py OUT [SUFFIX]``; set
``QT_SCALE_FACTOR=1.5`` or ``YOLODESK_THEME=dark`` for the other variants (SUFFIX names them: ``_150``, ``_dark``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, suffix: str = "") -> None:
    from docs.shoot_common import checkpoints, fresh_home, open_window, save_png

    home = fresh_home()
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPainter
    from PySide6.QtWidgets import QApplication

    from app.library.repository import Library
    from app.views.clone_actions import model_mime

    folder = checkpoints()
    lib = Library(home)
    for name in ("detect_yolo26n.pt", "segment_yolov8n.pt", "classify_yolo11n.pt"):
        lib.import_checkpoint(folder / name)
    for name in ("Drones", "Warehouse"):
        lib.create_project(name)
    session = open_window(lib)
    pump, w = session.pump, session.window
    out.mkdir(parents=True, exist_ok=True)
    pump(1)
    w.ops.wait_idle()

    # The context menu of a row, its "Clone to project" submenu open, painted onto the window's picture.
    table = w.project_page.table
    record = table.model().index(0, 0).data(Qt.ItemDataRole.UserRole + 2)
    table.selectRow(0)
    menu = w.model_actions.clones.table_menu(record)
    at = table.viewport().mapToGlobal(table.visualRect(table.model().index(0, 0)).center())
    menu.popup(at)
    pump(0.3)
    clone_item = next(a for a in menu.actions() if a.text() == "Clone to project")
    menu.setActiveAction(clone_item)
    sub = clone_item.menu()
    sub.popup(menu.mapToGlobal(menu.actionGeometry(clone_item).topRight()))
    sub.setActiveAction(sub.actions()[0])
    pump(0.4)
    picture = w.grab()
    painter = QPainter(picture)
    for popup in (menu, sub):
        painter.drawPixmap(w.mapFromGlobal(popup.pos()), popup.grab())
    painter.end()
    picture.save(str(out / f"clone_menu{suffix}.png"))
    print("saved", out / f"clone_menu{suffix}.png")
    sub.close()
    menu.close()

    # A drop of the detector on "Drones" in the sidebar (as a drag ends), then Open from the status bar.
    projects = w.sidebar.projects
    item = next(projects.item(i) for i in range(projects.count()) if projects.item(i).text().startswith("Drones"))
    pos = projects.visualItemRect(item).center()
    mime = model_mime(record.id)
    for event in (QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                  Qt.KeyboardModifier.NoModifier),
                  QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                             Qt.KeyboardModifier.NoModifier)):
        QApplication.sendEvent(projects.viewport(), event)
    w.ops.wait_idle()
    pump(0.5)
    print("saved", save_png(w, out / f"clone_dropped{suffix}.png"))
    notice = w.model_actions.clones.notice
    notice.button.click()
    w.ops.wait_idle()
    notice.offer(f"Cloned “{record.name}” to “Drones” —", notice.model_id or "")  # kept in the picture
    pump(0.8)
    print("saved", save_png(w, out / f"clone_opened{suffix}.png"))
    w.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "")
