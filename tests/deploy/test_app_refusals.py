"""What ``yolodesk deploy`` refuses before anything starts (one line, exit 1, no row left), the token store's
fallback without a keyring, and the p95 read from a real Prometheus exposition."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from app.deploy.endpoints import p95_ms
from app.deploy.tokens import forget_token, store_token, token_for
from tests.deploy.test_app_endpoints import cli


@pytest.fixture
def home_with_model(tmp_path: Path, task_weights: dict[str, Path]) -> Path:
    home = tmp_path / "home"
    added = cli(home, "import", str(task_weights["detect"]))
    assert added.returncode == 0, added.stderr
    return home


def nothing_left(home: Path) -> None:
    from app.jobs.store import JobStore
    from app.library.repository import Library

    from app.deploy.store import EndpointStore

    lib = Library(home)
    try:
        assert EndpointStore(lib).list() == [] and JobStore(lib).list() == []
    finally:
        lib.close()
    assert not (home / "endpoint-tokens").exists() or not any((home / "endpoint-tokens").iterdir())


def refused(home: Path, *args: str) -> str:
    out = cli(home, "deploy", *args)
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("yolodesk deploy: ") and "Traceback" not in out.stderr
    nothing_left(home)
    return lines[0]


@pytest.mark.slow  # the checkpoints fixture
def test_unknown_model(home_with_model: Path) -> None:
    assert "no model with id or name 'nosuch'" in refused(home_with_model, "nosuch")


@pytest.mark.slow  # the checkpoints fixture
def test_port_in_use(home_with_model: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = refused(home_with_model, "detect_yolo26n", "--port", str(port))
    assert f"port {port} is in use" in line


@pytest.mark.slow  # the checkpoints fixture
def test_port_out_of_range_backend_unknown_and_worker_unknown(home_with_model: Path) -> None:
    assert "not a port number" in refused(home_with_model, "detect_yolo26n", "--port", "70000")
    assert "cannot be served with 'onnx' here (it can: pt)" in refused(home_with_model, "detect_yolo26n",
                                                                        "--backend", "onnx")
    assert "nobox" in refused(home_with_model, "detect_yolo26n", "--worker", "nobox")


def test_token_file_fallback_is_private_and_forgotten(tmp_path: Path) -> None:
    kept, note = store_token(tmp_path, "ep1", "t" * 43)
    assert kept == "file"  # no keyring backend on this machine; the note says where the token went
    path = tmp_path / "endpoint-tokens" / "ep1"
    assert note is not None and str(path) in note and "0600" in note
    assert path.stat().st_mode & 0o777 == 0o600
    assert token_for(tmp_path, "ep1", kept) == "t" * 43
    forget_token(tmp_path, "ep1")
    assert not path.exists() and token_for(tmp_path, "ep1", kept) is None


def test_p95_from_the_endpoints_own_metric_names() -> None:
    registry = CollectorRegistry()
    requests = Counter("yolodesk_endpoint_requests", "", ["path", "status"], registry=registry)
    latency = Histogram("yolodesk_endpoint_predict_seconds", "", buckets=(.005, .01, .02, .05, .1), registry=registry)
    for seconds in [0.003] * 90 + [0.015] * 6 + [0.08] * 4:  # the 95th of 100 lies in the 0.02 bucket
        latency.observe(seconds)
    requests.labels("/predict", "200").inc(99)
    requests.labels("/predict", "401").inc(1)
    requests.labels("/healthz", "200").inc(7)
    assert p95_ms(generate_latest(registry).decode()) == (100, 20.0)
    assert p95_ms(generate_latest(CollectorRegistry()).decode()) == (0, None)
