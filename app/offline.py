"""Keep ultralytics off the network in every process YOLO Desk starts.

Read from ultralytics 8.4 source: ``YOLO_OFFLINE`` makes ``is_online()`` false (no
DNS probes, no hub, no asset downloads); ``YOLO_AUTOINSTALL=false`` stops automatic
``pip install`` of missing requirements; the settings file in ``YOLO_CONFIG_DIR`` turns
off sync (Sentry / analytics) and the logger integrations, and moves ``runs/``,
``datasets/`` and ``weights/`` under the library home instead of the working
directory; ``check_font`` looks in ``YOLO_CONFIG_DIR/Ultralytics`` first (ultralytics appends that
sub-folder), so a shipped font copied there as ``Arial.ttf`` and ``Arial.Unicode.ttf``
keeps it from downloading one even in offline mode.

Call :func:`apply_offline` before anything imports ultralytics, and pass
:func:`offline_env` to every child process.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path

from app.paths import library_home, resources_dir

SETTINGS_VERSION = "0.0.8"  # ultralytics SettingsManager schema in 8.4
FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")


def config_root(home: Path | None = None) -> Path:
    """What ``YOLO_CONFIG_DIR`` is set to (a folder of the library home)."""
    return (home or library_home()) / "ultralytics"


def config_dir(home: Path | None = None) -> Path:
    """Where ultralytics actually reads settings and fonts: ``YOLO_CONFIG_DIR/Ultralytics`` (8.4 source)."""
    return config_root(home) / "Ultralytics"


def offline_env(home: Path | None = None) -> dict[str, str]:
    """Environment variables that keep ultralytics (and friends) offline."""
    home = home or library_home()
    return {
        "YOLODESK_HOME": str(home),
        "YOLO_OFFLINE": "1",
        "YOLO_AUTOINSTALL": "false",
        "YOLO_CONFIG_DIR": str(config_root(home)),
        # Libraries ultralytics may pull in: no telemetry, no hub look-ups.
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "WANDB_MODE": "disabled",
        "COMET_MODE": "disabled",
        "MLFLOW_TRACKING_URI": "",
        "OPENVINO_TELEMETRY": "0",
        "PIP_NO_INPUT": "1",
        "PYTHONUNBUFFERED": "1",
    }


def ultralytics_settings(home: Path) -> dict[str, object]:
    """ultralytics' ``settings.json`` for a library home: its folders there, every sync and integration off."""
    return {
        "settings_version": SETTINGS_VERSION,
        "datasets_dir": str(home / "datasets"),
        "weights_dir": str(home / "weights"),
        "runs_dir": str(home / "runs" / "ultralytics"),
        "uuid": hashlib.sha256(str(uuid.getnode()).encode()).hexdigest(),
        "sync": False,
        "api_key": "",
        "openai_api_key": "",
        "clearml": False,
        "comet": False,
        "dvc": False,
        "mlflow": False,
        "raytune": False,
        "tensorboard": False,
        "wandb": False,
        "vscode_msg": False,
        "openvino_msg": False,
    }


def prepare_config_dir(home: Path | None = None) -> Path:
    """Create the ultralytics config folder with fonts and settings; return it."""
    home = home or library_home()
    cfg = config_dir(home)
    cfg.mkdir(parents=True, exist_ok=True)
    font = resources_dir() / "fonts" / "DejaVuSans.ttf"
    for name in FONT_NAMES:
        target = cfg / name
        if not target.exists():
            tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
            shutil.copyfile(font, tmp)
            os.replace(tmp, target)
    settings = cfg / "settings.json"
    wanted = ultralytics_settings(home)
    try:
        current = json.loads(settings.read_text())
    except (OSError, ValueError):
        current = {}
    if current != wanted:
        tmp = settings.with_name(f".settings.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(wanted, indent=2))
        os.replace(tmp, settings)
    return cfg


def disable_openvino_telemetry() -> None:
    """OpenVINO asks its consent file (``~/intel/openvino_telemetry``): "0" declines, no file may ask or send."""
    consent = Path.home() / "intel" / "openvino_telemetry"
    try:
        if consent.read_text().strip() == "0":
            return
    except OSError:
        pass
    try:
        consent.parent.mkdir(parents=True, exist_ok=True)
        consent.write_text("0")
    except OSError:
        pass  # a read-only home: OpenVINO then finds no consent directory and declines by itself


def apply_offline(home: Path | None = None) -> None:
    """Set the offline environment in this process and prepare the config folder."""
    home = home or library_home()
    os.environ.update(offline_env(home))
    prepare_config_dir(home)
