"""The endpoint's HTTP application (FastAPI): the hosted platform's ``/predict``, health, readiness, metrics.

Only :mod:`remote_agent.serve` imports this module, so an agent without FastAPI still runs every other kind.
The request path never blocks the event loop: bodies are read as a stream and cut at the byte cap, decoding runs
on the inference thread when it is idle (two thread hops fewer) or in a small pool while it is busy, inference
on the worker thread; a request waits at most ``limits.request_timeout_s``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import importlib.metadata
import json
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import ProcessCollector

from remote_agent.serve_input import InputRefused, decode_image, fetch_url
from remote_agent.serve_model import IMGSZ_MAX, IMGSZ_MIN, InferenceWorker, PredictParams, QueueFull

ULTRALYTICS_VERSION = importlib.metadata.version("ultralytics")  # without importing it (and torch) yet
ROUTES = ("/predict", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json")


@dataclass(frozen=True)
class Limits:
    """What one endpoint accepts (spec field ``limits``; every key optional)."""

    max_body_bytes: int = 10_000_000
    max_pixels: int = 40_000_000
    request_timeout_s: float = 30.0
    queue: int = 16  # inferences waiting for the worker; one more past that gets 429
    max_open: int = 64  # /predict requests being read, decoded or waited on at once; past that 503
    allow_urls: bool = False
    url_timeout_s: float = 10.0

    @classmethod
    def from_spec(cls, raw: dict[str, Any] | None) -> Limits:
        known = set(cls.__dataclass_fields__)
        unknown = set(raw or {}) - known
        if unknown:
            raise ValueError(f"limits: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        return cls(**(raw or {}))


@dataclass
class Metrics:
    """Prometheus metrics in the endpoint's own registry (not the process-global one)."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter("yolodesk_endpoint_requests", "HTTP requests by path and status", ["path", "status"],
                                registry=r)
        self.latency = Histogram("yolodesk_endpoint_predict_seconds", "Latency of /predict, read to answer",
                                 buckets=(.005, .01, .02, .03, .05, .075, .1, .15, .25, .5, 1, 2.5, 5, 10, 30),
                                 registry=r)
        self.in_flight = Gauge("yolodesk_endpoint_in_flight", "/predict requests being served now", registry=r)
        self.waiting = Gauge("yolodesk_endpoint_queue_waiting", "Inferences waiting for the worker", registry=r)
        self.load_seconds = Gauge("yolodesk_endpoint_model_load_seconds", "Load + warm-up time of the served model",
                                  registry=r)
        self.replacements = Counter("yolodesk_endpoint_model_replacements", "Models swapped in", registry=r)
        ProcessCollector(registry=r)  # process_cpu_seconds_total and process_resident_memory_bytes, for the charts


@dataclass
class EndpointState:
    """What the routes share: the token, the limits, the worker, readiness."""

    token: str
    limits: Limits
    worker: InferenceWorker
    metrics: Metrics = field(default_factory=Metrics)
    ready: bool = False
    open_requests: int = 0
    decoders: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(2, thread_name_prefix="decode"))


def _error(status: int, message: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


def _auth(state: EndpointState, request: Request) -> JSONResponse | None:
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not given.strip():
        return _error(401, "a bearer token is required: Authorization: Bearer <token>")
    if not hmac.compare_digest(given.strip().encode(), state.token.encode()):  # constant time
        return _error(403, "the token is not this endpoint's")
    return None


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` (announced or streamed)."""
    announced = request.headers.get("content-length")
    if announced is not None and announced.isdigit() and int(announced) > limit:
        raise InputRefused(413, f"the request body is {int(announced) / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise InputRefused(413, f"the request body is over {limit / 1e6:.0f} MB")
    return bytes(body)


def _params(fields: dict[str, Any]) -> PredictParams:
    def number(key: str, kind: type, lo: float, hi: float, default: Any) -> Any:
        raw = fields.get(key)
        if raw is None or raw == "":
            return default
        try:
            value = kind(raw) if kind is float else int(str(raw))
        except (TypeError, ValueError) as e:
            raise InputRefused(422, f"{key}: {str(raw)[:40]!r} is not a number") from e
        if not lo <= value <= hi:
            raise InputRefused(422, f"{key}: {value} is outside {lo}..{hi}")
        return value

    raw_norm = str(fields.get("normalize", "false")).strip().lower()
    if raw_norm not in ("true", "false", "1", "0", "yes", "no", ""):
        raise InputRefused(422, f"normalize: {raw_norm[:20]!r} is not true or false")
    return PredictParams(conf=number("conf", float, 0.0, 1.0, 0.25), iou=number("iou", float, 0.0, 1.0, 0.7),
                         imgsz=number("imgsz", int, IMGSZ_MIN, IMGSZ_MAX, None),
                         normalize=raw_norm in ("true", "1", "yes"), decimals=number("decimals", int, 0, 10, 5))


async def _image_and_fields(state: EndpointState, request: Request, body: bytes) -> tuple[bytes, dict[str, Any]]:
    """The picture's bytes and the parameters, from multipart, JSON (base64 or URL) or a raw image body."""
    fields: dict[str, Any] = dict(request.query_params)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    url: str | None = fields.pop("url", None)
    data: bytes | None = None
    if ctype == "multipart/form-data":
        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            form = await Request(request.scope, replay).form(max_files=1, max_fields=32)
        except Exception as e:  # a malformed multipart body is the client's error, said in one line
            raise InputRefused(400, f"the multipart body could not be read ({str(e)[:120]})") from e
        for key, value in form.multi_items():
            if key == "file" and hasattr(value, "read"):
                data = await value.read()
            elif isinstance(value, str):
                fields[key] = value
        url = fields.pop("url", url)
    elif ctype == "application/json":
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            raise InputRefused(400, "the JSON body could not be parsed") from e
        if not isinstance(doc, dict):
            raise InputRefused(400, 'the JSON body must be an object: {"image": "<base64>"}')
        image = doc.pop("image", None)
        url = doc.pop("url", url)
        fields.update({k: v for k, v in doc.items() if isinstance(v, str | int | float | bool)})
        if isinstance(image, str) and "://" in image[:16]:  # a URL of any scheme: fetch_url says which it takes
            url = image
        elif isinstance(image, str):
            b64 = image.split(",", 1)[1] if image.startswith("data:") else image
            try:
                data = base64.b64decode(b64, validate=True)
            except (binascii.Error, ValueError) as e:
                raise InputRefused(415, "image: not valid base64") from e
    elif ctype.startswith("image/") or ctype == "application/octet-stream":
        data = body
    if data is None and url:
        if not state.limits.allow_urls:
            raise InputRefused(400, "URL sources are off on this endpoint (send the image itself)")
        loop = asyncio.get_running_loop()
        data = await loop.run_in_executor(state.decoders, fetch_url, str(url), state.limits.max_body_bytes,
                                          state.limits.url_timeout_s)
    if data is None:
        raise InputRefused(400, 'no image: send multipart "file", JSON {"image": "<base64>"} or an image body')
    return data, fields


class CountRequests:
    """Requests by path and status, as a plain ASGI middleware (Starlette's BaseHTTPMiddleware costs ~1 ms a call)."""

    def __init__(self, app: Callable[..., Awaitable[None]], metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = [500]  # what a request that raised past every handler counts as

        async def send_counted(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            path = scope["path"] if scope["path"] in ROUTES else "other"
            self.metrics.requests.labels(path, str(status[0])).inc()


PREDICT_OPENAPI: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}, "conf": {"type": "number", "default": 0.25},
        "iou": {"type": "number", "default": 0.7}, "imgsz": {"type": "integer", "minimum": 32, "maximum": 1280},
        "normalize": {"type": "boolean", "default": False}, "decimals": {"type": "integer", "default": 5}}}},
    "application/json": {"schema": {"type": "object", "required": ["image"], "properties": {
        "image": {"type": "string", "description": "base64 (or a data: URI)"}}}}}},
    "security": [{"bearer": []}]}


def build_app(state: EndpointState) -> FastAPI:
    """The FastAPI application over ``state`` (routes, metrics middleware)."""
    app = FastAPI(title="YOLO Desk endpoint", version=ULTRALYTICS_VERSION,
                  description="Ultralytics Platform-compatible inference: POST /predict with a bearer token.")
    m = state.metrics

    app.add_middleware(CountRequests, metrics=m)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Alive (the process answers)."""
        return {"status": "alive"}

    @app.get("/readyz")
    async def readyz() -> Response:
        """200 once the model has run its warm-up inference, 503 before."""
        if not state.ready:
            return _error(503, "the model is still loading", retry_after=1)
        return JSONResponse({"status": "ready", "model": state.worker.model.name if state.worker.model else None})

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        """Prometheus text (token required)."""
        if (refused := _auth(state, request)) is not None:
            return refused
        m.waiting.set(state.worker.waiting)
        return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/predict", openapi_extra=PREDICT_OPENAPI)
    async def predict(request: Request) -> Response:
        """One image in; ``{"images": [{"shape", "speed", "results"}], "metadata": {...}}`` out."""
        if (refused := _auth(state, request)) is not None:
            return refused
        if not state.ready:
            return _error(503, "the model is still loading", retry_after=1)
        if state.open_requests >= state.limits.max_open:
            return _error(503, "too many requests at once; retry shortly", retry_after=1)
        state.open_requests += 1
        m.in_flight.inc()
        t0 = time.perf_counter()
        try:
            return await asyncio.wait_for(_predict(state, request), state.limits.request_timeout_s)
        except TimeoutError:
            return _error(504, f"no answer within {state.limits.request_timeout_s:g} s")
        except InputRefused as e:
            return _error(e.status, e.message)
        except QueueFull:
            return _error(429, "the endpoint is busy (its queue is full); retry shortly", retry_after=1)
        except Exception as e:  # a bug of ours must still be one line to the client and the log, not a traceback
            print(f"predict failed: {type(e).__name__}: {e}")
            return _error(500, f"the endpoint failed on this request: {type(e).__name__}")
        finally:
            state.open_requests -= 1
            m.in_flight.dec()
            m.latency.observe(time.perf_counter() - t0)

    return app


async def _predict(state: EndpointState, request: Request) -> Response:
    body = await _read_body(request, state.limits.max_body_bytes)
    data, fields = await _image_and_fields(state, request, body)
    params = _params(fields)
    if state.worker.idle:  # decoded on the inference thread: two thread hops fewer, and nothing to overlap with
        job = state.worker.submit(partial(decode_image, data, state.limits.max_pixels), params)
    else:  # the model is busy: decode in the pool meanwhile, then queue the pixels
        loop = asyncio.get_running_loop()
        image = await loop.run_in_executor(state.decoders, decode_image, data, state.limits.max_pixels)
        job = state.worker.submit(image, params)
    try:
        model, answer = await asyncio.wrap_future(job)
    except (QueueFull, InputRefused, asyncio.CancelledError):
        raise
    except Exception as e:  # the model failed on this picture: a 500 with the reason, the endpoint goes on
        return _error(500, f"inference failed: {type(e).__name__}: {str(e)[:200]}")
    return JSONResponse({"images": [answer], "metadata": {
        "imageCount": 1, "classNames": model.class_names, "model": model.name, "task": model.task,
        "version": ULTRALYTICS_VERSION}})
