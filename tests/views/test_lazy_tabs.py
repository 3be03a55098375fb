"""The model page builds a tab only when it is first shown or asked for (its first open stalled the window ~1 s)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from app.views.model_page import ScrollingTabs
from app.widgets.lazy_tabs import LazyTabs


def test_a_lazy_tab_is_made_on_first_show_or_access_once_and_replaces_its_placeholder(qtbot):
    tabs = ScrollingTabs()
    qtbot.addWidget(tabs)
    made: list[str] = []
    lazy = LazyTabs(tabs)
    tabs.addTab(QLabel("first"), "First")  # an ordinary tab, shown first
    for name in ("second", "third"):
        lazy.add(name, name.title(), lambda name=name: made.append(name) or QLabel(name))
    seen: list[str] = []
    lazy.when_made("third", lambda page: seen.append(page.text()))
    tabs.show()
    assert made == [] and lazy.made("second") is None and lazy.made("third") is None
    tabs.setCurrentIndex(1)  # shown: made now, in the placeholder's place
    assert made == ["second"] and tabs.currentWidget() is lazy.made("second")
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["First", "Second", "Third"]
    third = lazy.get("third")  # asked for: made without being shown
    assert made == ["second", "third"] and tabs.page(2) is third and tabs.currentIndex() == 1
    assert seen == ["third"]  # the waiter ran once, with the page
    tabs.setCurrentIndex(2)
    lazy.get("third")
    lazy.when_made("third", lambda page: seen.append("again"))  # already made: called at once
    assert made == ["second", "third"] and seen == ["third", "again"]


def test_the_first_model_page_builds_only_the_shown_tab_and_a_tab_asked_for_shows_the_model(two_model_window, qtbot):
    w = two_model_window
    model = next(m for m in w.project_models if m.task == "detect")
    w.open_model(model.id)
    w.ops.wait_idle()
    page = w.model_page
    assert page.tabs.currentWidget() is page.overview
    assert [page.made(n) for n in ("train", "validation", "deploy")] == [None, None, None]
    page.tabs.setCurrentIndex(page.tabs.indexOf(page.made("predict")) - 1)  # Train, by its place: not by name
    train = page.made("train")
    assert train is not None and page.tabs.currentWidget() is train and train.model.id == model.id
    assert page.made("deploy") is None
    deploy = page.deploy  # asked for by name: made, with the model shown and the window's library attached
    assert page.made("deploy") is deploy and deploy.model.id == model.id and deploy.ops is w.ops
    assert page.made("validation") is None
    tiles = [page.overview.metrics_grid.itemAt(i).widget() for i in range(page.overview.metrics_grid.count())]
    qtbot.waitUntil(lambda: all(t.spark_made for t in tiles), timeout=5000)  # one a turn, not all in one stall
    page.show_record(model)  # the model shown again: its tiles are kept, not rebuilt
    again = [page.overview.metrics_grid.itemAt(i).widget() for i in range(page.overview.metrics_grid.count())]
    assert len(tiles) == 4 and again == tiles and all(len(t.spark.values()) == 2 for t in again)
