"""The 30-day purge of the trash at start-up, on the library thread."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.views.main_window import MainWindow


def purge_at_start(window: MainWindow) -> None:
    """The 30-day purge, queued on the library thread behind the first reads (it never delays the first draw)."""
    lib = window.lib

    def purged(ids: list[str]) -> None:
        if ids:
            window.statusBar().showMessage(f"Deleted {len(ids)} model(s) that were in the trash for over 30 days", 8000)

    window.ops.submit(lib.purge_trash, purged, what="Emptying the trash of models older than 30 days")
