"""Where YOLO Desk keeps its files: the library home and the folders inside it."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "YOLODesk"
REPO_ROOT = Path(__file__).resolve().parent.parent


def library_home() -> Path:
    """The library home: ``YOLODESK_HOME`` if set, else the platform's user data folder."""
    env = os.environ.get("YOLODESK_HOME")
    if env:
        return Path(env).expanduser().resolve()
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def resources_dir() -> Path:
    """The shipped resources folder (fonts, icons, style sheets)."""
    import resources

    return Path(resources.__file__).resolve().parent
