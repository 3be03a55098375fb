"""Refuse data sets that ultralytics would execute or fetch, before ultralytics sees them.

Read from ``ultralytics/data/utils.py`` (8.4): ``check_det_dataset`` ``exec``s a data.yaml's ``download:`` (or runs
it with bash, or downloads it when it is a URL) whenever the ``val`` images are missing where *it* looks — and its
idea of the data set root (``path`` relative to the working folder, else ``DATASETS_DIR``) differs from ours, so
any ``download:`` is refused, not only one that would run. It also downloads a ``data=`` URL (``check_file``),
unpacks an archive given as data (even one named ``.yaml``), finds a bare name such as ``coco8`` among its own
data sets (which carry ``download:``), and in a folder picks the YAML that ``find_dataset_yaml`` finds;
``check_cls_dataset`` downloads a URL or a missing folder by name. Shared by the app (before a job exists) and
the agent (jobs can arrive by other means). No imports from ``app``.
"""

from __future__ import annotations

import re
import tarfile
import zipfile
from pathlib import Path
from typing import Any

DOWNLOAD_REFUSAL = ("this data set's `download:` would run code / fetch from the network; "
                    "YOLO Desk does not run it")
PATH_KEYS = ("path", "train", "val", "test", "minival")  # check_det_dataset resolves these as folders or files
_BAD_CHARS = re.compile(r"[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]+")
_MAX_YAMLS = 200  # a folder given as data: ultralytics looks at its YAML files; more than this is not a data set


def load_yaml_like_ultralytics(path: Path) -> Any:
    """The YAML as ultralytics' ``YAML.load`` reads it (bytes it cannot decode dropped, a retry without odd
    characters), so we judge what it will use; raises ``ValueError`` when ultralytics could not read it either."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, errors="ignore", encoding="utf-8") as f:
        text = f.read()
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError:
        try:
            return yaml.load(_BAD_CHARS.sub("", text), Loader=loader)  # noqa: S506
        except yaml.YAMLError as e:
            raise ValueError(f"{path.name} is not valid YAML: {' '.join(str(e).split())}") from None  # one line


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and "://" in value


def is_archive(path: Path) -> bool:
    """Whether ``path`` is a zip or tar archive (ultralytics unpacks either as a data set)."""
    try:
        return zipfile.is_zipfile(path) or tarfile.is_tarfile(path)
    except OSError:
        return False


def yaml_reason(path: Path) -> str | None:
    """Why the data file (a YAML or an archive) at ``path`` would make ultralytics run or fetch something; None if not."""
    if is_archive(path):
        return (f"{path.name} is an archive: ultralytics would unpack it and train on whatever data.yaml it holds; "
                "unpack it yourself and give its data.yaml")
    try:
        data = load_yaml_like_ultralytics(path)
    except (OSError, ValueError):
        return None  # ultralytics cannot read it either: it fails before running anything
    if not isinstance(data, dict):
        return None
    if data.get("download") not in (None, ""):
        return f"{path.name}: {DOWNLOAD_REFUSAL}"
    for key in PATH_KEYS:
        values = data.get(key) if isinstance(data.get(key), list) else [data.get(key)]
        url = next((v for v in values if _is_url(v)), None)
        if url is not None:
            return f"{path.name}: `{key}:` is a URL ({url}); YOLO Desk works offline and does not fetch data sets"
    return None


def _folder_yamls(folder: Path) -> list[Path]:
    # find_dataset_yaml's order: *.yaml at the top, else anywhere below; then *.yml
    for pattern in ("*.yaml", "*.yml"):
        top = sorted(folder.glob(pattern))
        if top:
            return top[:_MAX_YAMLS]
        below: list[Path] = []
        for p in folder.rglob(pattern):
            below.append(p)
            if len(below) >= _MAX_YAMLS:
                break
        if below:
            return below
    return []


def unsafe_data_reason(data: str | Path) -> str | None:
    """Why ultralytics would execute or fetch something for ``data=``; None when it would only read files."""
    text = str(data)
    if _is_url(text):
        return f"{text} is a URL; YOLO Desk works offline and does not fetch data sets"
    path = Path(text).expanduser()
    if not path.exists():
        return (f"{text} does not exist (a bare name such as coco8 would make ultralytics download its own data set; "
                "YOLO Desk works offline: data sets must be on disk)")
    if path.is_dir():
        for found in _folder_yamls(path):
            why = yaml_reason(found) if found.is_file() else None
            if why:
                return why
        return None
    if path.suffix.lower() in (".yaml", ".yml") or is_archive(path):
        return yaml_reason(path)
    return None


def refuse_unsafe_data(path: str | Path) -> None:
    """Raise ``ValueError`` saying why, when ultralytics would execute or fetch something for this data set."""
    why = unsafe_data_reason(path)
    if why:
        raise ValueError(why)
