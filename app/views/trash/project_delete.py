"""Deleting a project from the sidebar: at once when it is empty; after asking when its models are all in the trash."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from app.library.untrusted import printable

if TYPE_CHECKING:
    from app.views.main_window import MainWindow


def delete_project_asking(window: MainWindow, project_id: int) -> None:
    """Count the project's models on the library thread; ask before its trashed models go for ever with it."""
    lib = window.lib
    name = next((p.name for p in window.projects if p.id == project_id), "this project")

    def refused(e: Exception) -> None:
        QMessageBox.information(window, "Delete project", f"The project was not deleted: {e}.")

    def counted(counts: tuple[int, int]) -> None:
        live, trashed = counts
        if live or not trashed:  # empty: as before; live models: the library's refusal says why
            window.ops.submit(lambda: lib.delete_project(project_id), None, refused, "Deleting the project")
            return
        answer = QMessageBox.question(
            window, "Delete project", f"Delete the project “{printable(name)}” and {trashed} model"
            f"{'s' if trashed != 1 else ''} in the trash? They are deleted for ever with it (weights and exports); "
            "this cannot be undone.")
        if answer == QMessageBox.StandardButton.Yes:
            window.ops.submit(lambda: lib.delete_project(project_id, with_trash=True),
                              lambda n: window.statusBar().showMessage(
                                  f"Deleted the project “{printable(name)}” and {n} model(s) from the trash", 8000),
                              refused, "Deleting the project")

    window.ops.submit(lambda: lib.project_contents(project_id), counted, refused, "Deleting the project")
