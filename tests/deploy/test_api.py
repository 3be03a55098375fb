"""The endpoint's HTTP API against a real ``serve`` agent: the platform's response, the refusals, metrics, binding."""

from __future__ import annotations

import asyncio
import base64
import struct
import time
import zlib

import httpx
import psutil
import pytest

SPEC_CONF = "0.001"  # the tiny fixtures' scores are low: this keeps their results non-empty


@pytest.fixture(scope="module")
def detect_endpoint(start_endpoint, task_weights):
    ep = start_endpoint(model=str(task_weights["detect"]))
    ep.wait_state("Ready", timeout=90)
    yield ep
    assert ep.stop() == 0


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` pixels, with one tiny compressed row: a decompression bomb's
    shape without its size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def expected_summary(weights, image, **kw):
    from ultralytics import YOLO

    r = YOLO(str(weights)).predict(str(image), verbose=False, **kw)[0]
    return r


def test_detect_response_is_the_platforms_and_equals_results_summary(detect_endpoint, task_weights, task_images):
    image = task_images["detect"]
    with open(image, "rb") as f:
        r = httpx.post(f"{detect_endpoint.url}/predict", headers=detect_endpoint.auth, files={"file": f},
                       data={"conf": SPEC_CONF, "iou": "0.6", "imgsz": "64", "decimals": "4", "normalize": "true"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert set(doc) == {"images", "metadata"} and len(doc["images"]) == 1
    one = doc["images"][0]
    assert set(one) == {"shape", "speed", "results"}
    assert set(one["speed"]) == {"preprocess", "inference", "postprocess"}
    ref = expected_summary(task_weights["detect"], image, conf=0.001, iou=0.6, imgsz=64)
    assert one["shape"] == list(ref.orig_shape)
    want = ref.summary(normalize=True, decimals=4)
    assert len(want) > 0 and one["results"] == want
    assert all(0 <= v <= 1 for row in one["results"] for v in row["box"].values())  # normalized
    assert doc["metadata"] == {"imageCount": 1, "classNames": {"0": "square", "1": "disc"}, "model": "detect_yolo26n",
                               "task": "detect", "version": "8.4.190"}


def test_json_base64_gives_the_same_answer_as_multipart(detect_endpoint, task_images):
    data = task_images["detect"].read_bytes()
    a = httpx.post(f"{detect_endpoint.url}/predict", headers=detect_endpoint.auth, files={"file": data},
                   data={"conf": SPEC_CONF})
    b = httpx.post(f"{detect_endpoint.url}/predict", headers=detect_endpoint.auth,
                   json={"image": base64.b64encode(data).decode(), "conf": 0.001})
    assert a.status_code == b.status_code == 200, (a.text, b.text)
    assert a.json()["images"][0]["results"] == b.json()["images"][0]["results"] != []


def test_token_required_on_predict_and_metrics_health_open(detect_endpoint, task_images):
    url, data = detect_endpoint.url, task_images["detect"].read_bytes()
    for path, call in (("/predict", lambda h: httpx.post(f"{url}/predict", headers=h, files={"file": data})),
                       ("/metrics", lambda h: httpx.get(f"{url}/metrics", headers=h))):
        none = call({})
        assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer", path
        assert call({"Authorization": "Bearer " + "x" * 43}).status_code == 403, path
        assert call({"Authorization": "Basic " + detect_endpoint.token}).status_code == 401, path
        assert call(detect_endpoint.auth).status_code == 200, path
    assert httpx.get(f"{url}/healthz").status_code == 200
    assert httpx.get(f"{url}/readyz").json()["status"] == "ready"


def test_body_over_10_mb_is_413_announced_or_streamed(detect_endpoint):
    url = f"{detect_endpoint.url}/predict"
    big = b"\0" * (10_000_000 + 1)
    r = httpx.post(url, headers=detect_endpoint.auth, files={"file": ("a.png", big)})
    assert r.status_code == 413 and "10 MB" in r.json()["detail"]
    sent = [0]

    def chunks():  # no Content-Length: the server must count what arrives and stop reading
        for _ in range(40):
            sent[0] += 1
            yield b"\0" * 1_000_000

    r = httpx.post(url, headers={**detect_endpoint.auth, "content-type": "application/octet-stream"},
                   content=chunks())
    assert r.status_code == 413
    assert httpx.get(f"{detect_endpoint.url}/healthz").status_code == 200


def test_more_pixels_than_the_cap_is_413_from_the_header(detect_endpoint):
    bomb = png_header_only(10_000, 10_000)  # 100 MP claimed, a few hundred bytes sent
    assert len(bomb) < 1000
    r = httpx.post(f"{detect_endpoint.url}/predict", headers=detect_endpoint.auth, files={"file": ("b.png", bomb)})
    assert r.status_code == 413 and "100.0 MP" in r.json()["detail"], r.text


def test_not_an_image_is_415_and_a_model_file_is_never_taken(detect_endpoint, task_weights):
    url = f"{detect_endpoint.url}/predict"
    for payload in (b"hello, not a picture", task_weights["detect"].read_bytes(), b""):
        r = httpx.post(url, headers=detect_endpoint.auth, files={"file": ("x.pt", payload)})
        assert r.status_code == 415, r.text
        assert "Traceback" not in r.text
    r = httpx.post(url, headers=detect_endpoint.auth, json={"image": "!!not base64!!"})
    assert r.status_code == 415


def test_refusals_are_the_same_while_the_model_is_busy(detect_endpoint, task_images):
    """Idle, a picture is decoded on the inference thread; busy, in the decode pool: both refuse alike."""
    import concurrent.futures

    import cv2

    url = f"{detect_endpoint.url}/predict"
    big = cv2.imencode(".png", cv2.resize(cv2.imread(str(task_images["detect"])), (1280, 1280)))[1].tobytes()

    def slow(_: int) -> int:
        return httpx.post(url, headers=detect_endpoint.auth, files={"file": big}, data={"imgsz": "1280"},
                          timeout=60).status_code

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        busy = [pool.submit(slow, i) for i in range(3)]
        time.sleep(0.3)  # the first slow one is running, the others wait: the worker is busy
        refused = [httpx.post(url, headers=detect_endpoint.auth, files={"file": ("x.png", payload)}, timeout=60)
                   for payload in (b"hello, not a picture", png_header_only(10_000, 10_000))]
        still_busy = not all(f.done() for f in busy)
        assert [f.result() for f in busy] == [200, 200, 200]
    assert still_busy, "the slow requests ended before the refusals were sent: the busy path was not exercised"
    assert [r.status_code for r in refused] == [415, 413], [r.text for r in refused]
    assert "Traceback" not in refused[0].text + refused[1].text


def test_serves_on_the_c_http_stack_and_names_its_threads(detect_endpoint):
    """uvloop + httptools when installed (they are dependencies), and the runtime's thread count in the log."""
    detect_endpoint.wait_state("Ready")
    line = next(x for x in detect_endpoint.logs().splitlines() if x.startswith("serving "))
    assert line.endswith("HTTP: uvicorn with uvloop and httptools"), line
    assert "(pt) on PyTorch, " in line and " intra-op threads" in line, line


def test_url_sources_are_off_and_bad_parameters_are_one_line(detect_endpoint, task_images):
    url = f"{detect_endpoint.url}/predict"
    r = httpx.post(url, headers=detect_endpoint.auth, json={"image": f"{detect_endpoint.url}/healthz"})
    assert r.status_code == 400 and "URL sources are off" in r.json()["detail"]
    data = task_images["detect"].read_bytes()
    for field, value in (("imgsz", "2000"), ("imgsz", "16"), ("conf", "high"), ("normalize", "maybe")):
        r = httpx.post(url, headers=detect_endpoint.auth, files={"file": data}, data={field: value})
        assert r.status_code == 422 and r.json()["detail"].startswith(field), (field, r.text)


def test_metrics_are_prometheus_text(detect_endpoint, task_images):
    url = detect_endpoint.url
    httpx.post(f"{url}/predict", headers=detect_endpoint.auth, files={"file": task_images["detect"].read_bytes()})
    httpx.post(f"{url}/predict", files={"file": b"x"})
    text = httpx.get(f"{url}/metrics", headers=detect_endpoint.auth).text
    lines = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines() if not line.startswith("#")}
    assert lines['yolodesk_endpoint_requests_total{path="/predict",status="200"}'] >= 1
    assert lines['yolodesk_endpoint_requests_total{path="/predict",status="401"}'] >= 1
    assert lines["yolodesk_endpoint_predict_seconds_count"] >= 2
    assert lines["yolodesk_endpoint_in_flight"] == 0
    assert 0 < lines["yolodesk_endpoint_model_load_seconds"] < 60


def test_openapi_documents_predict(detect_endpoint):
    doc = httpx.get(f"{detect_endpoint.url}/openapi.json").json()
    body = doc["paths"]["/predict"]["post"]["requestBody"]["content"]
    assert body["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"
    assert "application/json" in body
    assert httpx.get(f"{detect_endpoint.url}/docs").status_code == 200


def test_default_bind_is_loopback_only(detect_endpoint):
    ready = detect_endpoint.wait_state("Ready")
    assert ready["host"] == "127.0.0.1" and detect_endpoint.url.startswith("http://127.0.0.1:")
    listening = [c for c in psutil.Process(detect_endpoint.proc.pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN]
    assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", ready["port"])]
    assert "token" not in str(detect_endpoint.events) and detect_endpoint.token not in str(detect_endpoint.events)


@pytest.mark.slow
def test_load_16_concurrent_2000_requests_no_errors(detect_endpoint, task_images):
    data = task_images["detect"].read_bytes()
    url, auth = f"{detect_endpoint.url}/predict", detect_endpoint.auth
    statuses: list[int] = []

    async def client(n: int, http: httpx.AsyncClient) -> None:
        for _ in range(n):
            r = await http.post(url, headers=auth, files={"file": data})
            statuses.append(r.status_code)

    async def main() -> None:
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(limits=limits, timeout=30) as http:
            await asyncio.wait_for(asyncio.gather(*(client(125, http) for _ in range(16))), 120)

    t0 = time.monotonic()
    asyncio.run(main())
    seconds = time.monotonic() - t0
    assert len(statuses) == 2000 and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    print(f"2000 requests at concurrency 16 in {seconds:.1f} s ({2000 / seconds:.0f} req/s)")
