"""Fixtures for endpoints: a real agent process running a ``serve`` job, never left behind."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.offline import offline_env, prepare_config_dir

ROOT = Path(__file__).resolve().parents[2]


class Endpoint:
    """One ``python -m remote_agent run SPEC`` of kind ``serve``; its events are collected as they arrive."""

    def __init__(self, folder: Path, home: Path, args: dict[str, Any]) -> None:
        self.folder = folder
        self.token = secrets.token_urlsafe(32)
        token_file = folder / "token"
        token_file.write_text(self.token)
        token_file.chmod(0o600)
        self.run_dir = folder / "run"
        spec = {"id": folder.name, "kind": "serve", "run_dir": str(self.run_dir), "system_interval": 30,
                "args": {"token_file": str(token_file), **args}}
        spec_path = folder / "spec.json"
        spec_path.write_text(json.dumps(spec))
        prepare_config_dir(home)
        env = dict(os.environ, **offline_env(home), PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, "-m", "remote_agent", "run", str(spec_path)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.events: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.events.append(json.loads(line))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = 60) -> dict[str, Any]:
        """The first event ``match`` accepts, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for ev in self.events:
                    if match(ev):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._changed.wait(0.5)):
                    raise AssertionError(f"no such event within {timeout} s; got {[e['type'] for e in self.events]}"
                                         f"{self.logs()[-2000:]}")
                self._changed.wait(min(left, 0.5))

    def wait_state(self, state: str, timeout: float = 60) -> dict[str, Any]:
        return self.wait_for(lambda e: e["type"] == "endpoint" and e.get("state") == state, timeout)

    def logs(self) -> str:
        return "".join(e.get("text", "") for e in self.events if e["type"] == "log")

    @property
    def url(self) -> str:
        return self.wait_state("Deploying")["url"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def replace(self, **fields: Any) -> None:
        """Ask the agent to swap models, as the app does: an atomic control file."""
        control = self.run_dir / "control"
        tmp = control / "replace.json.tmp"
        tmp.write_text(json.dumps(fields))
        tmp.replace(control / "replace.json")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as the app's cancel does; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)


@pytest.fixture(scope="session")
def start_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Endpoint]]:
    """Start an endpoint with spec ``args``; every one started is killed at the end of the session."""
    started: list[Endpoint] = []
    home = tmp_path_factory.mktemp("home")

    def start(**args: Any) -> Endpoint:
        ep = Endpoint(tmp_path_factory.mktemp("endpoint"), home, args)
        started.append(ep)
        return ep

    yield start
    for ep in started:
        ep.kill()


@pytest.fixture(scope="session")
def task_images(checkpoints: tuple[Path, dict]) -> dict[str, Path]:
    """One validation picture per task, from the data sets the checkpoints were trained on."""
    root, _ = checkpoints
    out = {}
    for task in ("detect", "segment", "pose", "obb", "classify"):
        pics = sorted(p for p in (root / "data" / task).rglob("*.png") if "val" in p.parts)
        out[task] = pics[0]
    return out


@pytest.fixture(scope="session")
def task_weights(checkpoints: tuple[Path, dict]) -> dict[str, Path]:
    root, manifest = checkpoints
    return {info["task"]: root / name for name, info in manifest.items()
            if isinstance(info, dict) and name.split("_")[0] == info.get("task")}
