"""Every process YOLO Desk starts keeps ultralytics off the network: measured with a socket guard."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app.offline import FONT_NAMES, offline_env, prepare_config_dir

ROOT = Path(__file__).resolve().parents[1]

# Counts every DNS lookup and connect attempt the process makes, then builds a model, checks the font and the
# settings the way ultralytics does on first use.
PROBE = r"""
import json, socket, sys
attempts = []
real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
def getaddrinfo(host, *a, **k):
    attempts.append(("dns", str(host)))
    return real_getaddrinfo(host, *a, **k)
def connect(self, addr):
    attempts.append(("connect", str(addr)))
    return real_connect(self, addr)
socket.getaddrinfo, socket.socket.connect = getaddrinfo, connect
sys.path.insert(0, sys.argv[1])
from app.offline import apply_offline
apply_offline()
import ultralytics
from ultralytics import YOLO
from ultralytics.utils import ONLINE, SETTINGS
from ultralytics.utils.checks import check_font
model = YOLO("yolo26n.yaml")
font = check_font("Arial.ttf")
font_u = check_font("Arial.Unicode.ttf")
print(json.dumps({"attempts": attempts, "online": ONLINE, "sync": SETTINGS["sync"], "font": str(font),
                  "font_u": str(font_u), "runs_dir": SETTINGS["runs_dir"], "datasets_dir": SETTINGS["datasets_dir"]}))
"""


def test_config_dir_has_fonts_and_settings(home):
    cfg = prepare_config_dir(home)
    for name in FONT_NAMES:
        assert (cfg / name).stat().st_size > 100_000
    settings = json.loads((cfg / "settings.json").read_text())
    assert settings["sync"] is False and settings["runs_dir"].startswith(str(home))
    env = offline_env(home)
    assert env["YOLO_OFFLINE"] == "1" and env["YOLO_AUTOINSTALL"] == "false" and env["YOLO_CONFIG_DIR"] == str(cfg.parent)


def test_ultralytics_makes_no_network_attempt(home):
    proc = subprocess.run([sys.executable, "-c", PROBE, str(ROOT)], capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(home.parent), "YOLODESK_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["attempts"] == []
    assert result["online"] is False and result["sync"] is False
    assert result["font"].startswith(str(home)) and result["font_u"].startswith(str(home))
    assert result["runs_dir"].startswith(str(home)) and result["datasets_dir"].startswith(str(home))
    assert "Creating new Ultralytics Settings" not in proc.stdout + proc.stderr
