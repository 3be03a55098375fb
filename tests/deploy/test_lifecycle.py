"""An endpoint's life: refused specs, readiness, a full queue, URL sources when enabled, stop and its port."""

from __future__ import annotations

import concurrent.futures
import errno
import json
import socket

import httpx
import pytest


def test_spec_refusals_are_one_line_verdicts(start_endpoint, task_weights, tmp_path):
    loose = tmp_path / "token"
    loose.write_text("t" * 40)
    loose.chmod(0o644)
    cases = (({"token_file": str(loose)}, "readable by others"),
             ({"host": "0.0.0.0"}, "set lan: true"),
             ({"token_file": str(tmp_path / "missing")}, "cannot read missing"),
             ({"limits": {"queue_len": 3}}, "unknown key(s) queue_len"))
    eps = [(start_endpoint(model=str(task_weights["detect"]), **args), text) for args, text in cases]
    for ep, text in eps:
        assert ep.proc.wait(60) == 1
        failed = ep.wait_for(lambda e: e["type"] == "failed")
        assert text in failed["message"], failed
        assert not any(e["type"] == "endpoint" for e in ep.events)  # refused before a port was opened


def test_readiness_queue_urls_and_stop_frees_the_port(start_endpoint, task_weights, task_images):
    ep = start_endpoint(model=str(task_weights["detect"]), limits={"queue": 1, "allow_urls": True})
    deploying = ep.wait_state("Deploying")
    url = deploying["url"]
    early = httpx.get(f"{url}/readyz")  # the port is open, the model still loading (torch is not even imported)
    assert early.status_code == 503 and early.headers["retry-after"] == "1"
    assert not any(e.get("state") == "Ready" for e in ep.events)
    assert httpx.get(f"{url}/healthz").status_code == 200
    assert httpx.post(f"{url}/predict", headers=ep.auth, files={"file": b"x"}).status_code == 503
    ep.wait_state("Ready", timeout=90)
    assert httpx.get(f"{url}/readyz").status_code == 200

    # one inference running and one waiting fill this endpoint: the rest are told to come back, not queued
    import cv2

    big = cv2.imencode(".png", cv2.resize(cv2.imread(str(task_images["detect"])), (1280, 1280)))[1].tobytes()

    def slow(_: int) -> httpx.Response:
        return httpx.post(f"{url}/predict", headers=ep.auth, files={"file": big}, data={"imgsz": "1280"}, timeout=60)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(slow, range(8)))
    codes = [r.status_code for r in answers]
    assert codes.count(429) >= 1 and codes.count(200) >= 2, codes
    assert set(codes) <= {200, 429}
    assert all(r.headers["retry-after"] == "1" for r in answers if r.status_code == 429)

    # URL sources switched on: still never to this machine or a private network, never a non-HTTP scheme
    for source, why in ((f"{url}/healthz", "non-public address (127.0.0.1)"), ("http://10.1.2.3/x.jpg", "(10.1.2.3)"),
                        ("http://[::1]:80/a.png", "non-public address (::1)"), ("file:///etc/passwd", "only http(s)"),
                        ("http://169.254.169.254/latest/meta-data", "(169.254.169.254)")):
        r = httpx.post(f"{url}/predict", headers=ep.auth, json={"image": source})
        assert r.status_code == 400 and why in r.json()["detail"], (source, r.text)

    port = deploying["port"]
    assert ep.stop() == 0
    assert ep.events[-1]["type"] == "cancelled" and ep.events[-1]["result"]["port"] == port
    assert ep.events[-1]["result"]["predict_requests"] >= 8
    assert [e["state"] for e in ep.events if e["type"] == "endpoint"] == ["Deploying", "Ready", "Stopping"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz")
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as a new endpoint binds: fails while anyone listens
    try:
        s.bind(("127.0.0.1", port))
        s.listen(1)
    except OSError as e:
        pytest.fail(f"port {port} still held after stop ({errno.errorcode.get(e.errno)})")
    finally:
        s.close()
    assert ep.token not in json.dumps(ep.events)
