"""Screenshot of the Deploy tab (run under Xvfb: xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_deploy.py OUT MODEL).

Uses the library at $YOLODESK_HOME: deploys MODEL from the tab, sends it a few requests so the chart has a line,
grabs the window as ``deploy.png``, then stops and deletes the endpoint (nothing is left serving).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, model: str, image: Path) -> None:
    import httpx

    from docs.shoot_common import open_default, save_png

    lib, session = open_default()
    w, pump = session.window, session.pump
    out.mkdir(parents=True, exist_ok=True)
    pump(1)
    _, tab = session.open_tab(lib, model, "deploy")
    pump(1.5)  # the model page opens on the library thread, on its Overview: show the Deploy tab once it is up
    w.model_page.tabs.setCurrentWidget(tab)
    session.until(lambda: tab.form.runtime.count() > 0, 20)
    tab.form.name.setText("shapes-api")
    tab.form.deploy_button.click()
    session.until(lambda: tab.selected() is not None and tab.selected().state == "Ready", 90)
    ep = tab.selected()
    token = tab.tokens[ep.id]
    end = time.monotonic() + 16
    while time.monotonic() < end:  # a little traffic, between pumps so the chart reads /metrics meanwhile
        with open(image, "rb") as f:
            httpx.post(f"{ep.url}/predict", files={"file": (image.name, f, "image/png")},
                       headers={"Authorization": f"Bearer {token}"}, timeout=60)
        pump(0.3)
    pump(2.5)
    print("saved", out / "deploy.png", save_png(w, out / "deploy.png"), "bytes")
    tab.stop_button.click()
    session.until(lambda: tab.selected() is not None and tab.selected().state == "Stopped", 60)
    tab.delete_button.click()
    session.until(lambda: tab.table.rowCount() == 0, 30)
    w.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
