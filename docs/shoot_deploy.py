"""Screenshots of the Deploy tab while a client sends traffic, and of its test panel.

Run under Xvfb: ``xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_deploy.py OUT CHECKPOINT IMAGE [SUFFIX]``
(set ``QT_SCALE_FACTOR=1.5`` or ``YOLODESK_THEME=dark`` for the other variants; SUFFIX names them: ``_150``,
``_dark``). A fresh library in a temporary home gets CHECKPOINT; the tab deploys it, a thread posts IMAGE to it
(as a client would) while the chart fills, ``deploy{SUFFIX}.png`` is grabbed; IMAGE then goes through the Test
panel for ``deploy_test{SUFFIX}.png``; the endpoint is stopped and deleted (nothing is left serving).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TRAFFIC_S = 20


def _traffic(url: str, token: str, image: Path, stop: threading.Event) -> None:
    """A client's load: the picture again and again, a few a second, and now and then a wrong token (a 403)."""
    import httpx

    body = image.read_bytes()
    with httpx.Client(timeout=60) as client:
        n = 0
        while not stop.is_set():
            n += 1
            wrong = n % 9 == 0
            client.post(f"{url}/predict", files={"file": (image.name, body, "image/png")},
                        headers={"Authorization": f"Bearer {'nope' * 5 if wrong else token}"})
            stop.wait(0.08)


def main(out: Path, checkpoint: Path, image: Path, suffix: str = "") -> None:
    home = Path(tempfile.mkdtemp(prefix="yd-shoot-deploy-"))
    os.environ["YOLODESK_HOME"] = str(home)
    from app.offline import offline_env

    os.environ.update(offline_env(home))
    from app.library.repository import Library
    from docs.shoot_common import open_window, save_png

    lib = Library(home)
    model = lib.import_checkpoint(checkpoint).model
    session = open_window(lib)
    w, pump = session.window, session.pump
    out.mkdir(parents=True, exist_ok=True)
    pump(1)
    _, tab = session.open_tab(lib, model.id, "deploy")
    pump(1.5)  # the model page opens on the library thread: show the Deploy tab once it is up
    w.model_page.tabs.setCurrentWidget(tab)
    session.until(lambda: tab.form.runtime.count() > 0, 20)
    tab.form.name.setText("shapes-api")
    tab.form.deploy_button.click()
    session.until(lambda: tab.selected() is not None and tab.selected().state == "Ready", 90)
    ep = tab.selected()
    stop = threading.Event()
    client = threading.Thread(target=_traffic, args=(ep.url, tab.tokens[ep.id], image, stop), daemon=True)
    client.start()
    end = time.monotonic() + TRAFFIC_S
    while time.monotonic() < end:
        pump(0.5)
    print("saved", out / f"deploy{suffix}.png", save_png(w, out / f"deploy{suffix}.png"), "bytes")
    stop.set()
    client.join(30)
    tab.views.setCurrentWidget(tab.try_panel)
    tab.try_panel.choose(str(image))
    session.until(lambda: tab.try_panel.response is not None, 30)
    pump(1)
    print("saved", out / f"deploy_test{suffix}.png", save_png(w, out / f"deploy_test{suffix}.png"), "bytes")
    tab.stop_button.click()
    session.until(lambda: tab.selected() is not None and tab.selected().state == "Stopped", 60)
    tab.delete_button.click()
    session.until(lambda: tab.table.rowCount() == 0, 30)
    w.close()
    lib.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "")
