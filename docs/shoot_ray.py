"""Screenshot of a Ray worker being added: the Add worker dialog with Kind = Ray (dashboard port, token).

Run under Xvfb: ``xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_ray.py OUT [SUFFIX]``; set
``QT_SCALE_FACTOR=1.5`` or ``YOLODESK_THEME=dark`` for the other variants (SUFFIX names them: ``_150``, ``_dark``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, suffix: str = "") -> None:
    from docs.shoot_common import fresh_home, open_window, save_png

    home = fresh_home(no_ssh_config=True)
    from app.library.repository import Library
    from app.views.workers_page import AddWorkerDialog

    session = open_window(Library(home))
    w, pump = session.window, session.pump
    out.mkdir(parents=True, exist_ok=True)
    pump(1)
    dialog = AddWorkerDialog(w)
    dialog.name.setText("rc")
    dialog.host.setText("ray-head.cluster.example")
    dialog.user.setText("me")
    fields = dialog.kind_fields
    fields.kind.setCurrentIndex(fields.kind.findData("ray"))
    fields.ray_token.setText("a-token-from-the-cluster-admin")
    dialog.show()
    pump(0.5)
    print("saved", save_png(dialog, out / f"ray_add_worker{suffix}.png"))
    dialog.close()
    w.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots",
         sys.argv[2] if len(sys.argv) > 2 else "")
