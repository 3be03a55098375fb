"""A ``serve`` job: an HTTP inference endpoint (FastAPI + uvicorn) in the agent's process, until cancelled.

Spec (``spec["args"]``; only ``model`` is required)::

    model        path of the .pt (opened through the loading gate) or of an export (file or folder, YOLO(path))
    format       "pt" or the export's format ("onnx", "openvino", "torchscript", "engine", …); default from the suffix
    task, name   the model's task (default: the model's own) and the name reported in responses (default: file stem)
    imgsz        default inference size (a .pt: its training size); an export always runs at this size
    device       "cpu" (default), "cuda:0", …
    host         "127.0.0.1" (default); any other address only with "lan": true ("lan": true alone binds 0.0.0.0)
    port         0 (default) picks a free port; the bound one is reported
    token_file   a file (mode 0600, not readable by group or others) holding the bearer token — preferred;
                 else the YOLODESK_ENDPOINT_TOKEN environment variable; else "token" (it then sits in spec.json)
    limits       see ``serve_app.Limits``: max_body_bytes (10 MB), max_pixels (40 MP), request_timeout_s (30),
                 queue (16 waiting inferences, then 429), max_open (64 requests at once, then 503),
                 allow_urls (false: no URL sources), url_timeout_s (10)

``spec["trusted_sha256"]`` lists digests the gate loads plainly, as for the other kinds.

Events: ``started``, ``log``, then ``endpoint`` events: ``state: "Deploying"`` once the port is bound (url, host,
port; /healthz answers, /readyz says 503), ``state: "Ready"`` once the model has run one warm-up inference
(model, task, format, load_seconds), ``state: "Stopping"`` on SIGTERM, then ``cancelled`` with the endpoint's
totals. The token never appears in an event or a log line.

Replacing the model: the owner writes ``<run_dir>/control/replace.json`` (atomically: a temporary file, then
rename) with the same fields as above (model, format, task, name, imgsz, trusted_sha256). The agent takes the
file (renamed ``replace.taken.json``), loads and warms the new model through the gate while the old one goes
on serving, then swaps it in between two inferences: URL and token stay, no request fails. It emits
``endpoint`` with ``state: "Ready", "replaced": true``; a model that cannot be loaded emits ``replace_failed``
with the reason, and the old model keeps serving. A control file, not an HTTP route: whoever holds the token
may send pictures, only whoever can write the job's folder may make the server open a model file.

Rotating the token: the owner writes ``<run_dir>/control/token`` (mode 0600, atomically); the agent takes it,
serves with it from the next request on (the old one gets 403) and emits ``endpoint`` with ``token_rotated``.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
from pathlib import Path
from typing import Any

from remote_agent.events import Emitter
from remote_agent.train import CancelFlag

TOKEN_ENV = "YOLODESK_ENDPOINT_TOKEN"
MIN_TOKEN_CHARS = 16
POLL_S = 0.1
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def read_token(args: dict[str, Any]) -> str:
    """The bearer token: from ``token_file`` (owner-only), the environment, or the spec, in that order."""
    token: str | None = None
    if args.get("token_file"):
        path = Path(args["token_file"])
        try:
            st = path.stat()
        except OSError as e:
            raise ValueError(f"token_file: cannot read {path.name} ({e.strerror or e})") from e
        if os.name == "posix" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ValueError(f"token_file: {path.name} is readable by others (mode {stat.S_IMODE(st.st_mode):o}); "
                             "chmod 600 it")
        token = path.read_text(encoding="utf-8").strip()
    elif os.environ.get(TOKEN_ENV):
        token = os.environ[TOKEN_ENV].strip()
    elif args.get("token"):
        token = str(args["token"]).strip()
    if not token:
        raise ValueError(f"no token: an endpoint needs one (token_file, ${TOKEN_ENV} or token)")
    if len(token) < MIN_TOKEN_CHARS:
        raise ValueError(f"the token is too short ({len(token)} characters; at least {MIN_TOKEN_CHARS})")
    return token


def bind_address(args: dict[str, Any]) -> tuple[str, int]:
    """(host, port) to bind: loopback unless the spec opted in to the LAN."""
    lan = bool(args.get("lan", False))
    host = str(args.get("host") or ("0.0.0.0" if lan else "127.0.0.1"))
    if host not in LOOPBACK and not lan:
        raise ValueError(f"host {host!r} is reachable from other machines: set lan: true to allow it")
    port = args.get("port", 0)
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port: {port!r} is not a port number (0 picks a free one)")
    return host, port


def model_fields(args: dict[str, Any], trusted: list[str]) -> dict[str, Any]:
    """Keyword arguments of ``ServedModel`` from a spec's (or a replace file's) fields."""
    path = args.get("model")
    if not path:
        raise ValueError("model: the path of a .pt or an export is required")
    fmt = str(args.get("format") or ("pt" if str(path).endswith(".pt") else Path(path).suffix.lstrip(".") or "export"))
    if fmt != "pt" and not args.get("imgsz"):
        raise ValueError("imgsz: an export runs at the size it was built for; the spec must say it")
    return {"path": str(path), "fmt": fmt, "task": args.get("task"), "imgsz": args.get("imgsz"),
            "name": args.get("name"), "trusted": list(args.get("trusted_sha256") or trusted),
            "device": str(args.get("device") or "cpu")}


def http_stack() -> tuple[str, str]:
    """uvicorn's (event loop, HTTP parser): the C ones (uvloop, httptools) when installed, else asyncio and h11."""
    import importlib.util

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return loop, http


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY only then
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restarted endpoint gets its port back at once
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ValueError(f"cannot listen on {host}:{port} ({e.strerror or e})") from e
    sock.listen(2048)
    return sock


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "localhost") else ("[::1]" if host in ("::", "::1") else host)
    return f"http://{shown}:{port}"


def _load(fields: dict[str, Any], run_dir: Path, tag: str) -> Any:
    from remote_agent.serve_model import ServedModel

    copy_to = run_dir / "weights-in" / tag / Path(fields["path"]).name if fields["fmt"] == "pt" else None
    return ServedModel(**fields, copy_to=copy_to)


def _take_replace(control: Path) -> dict[str, Any] | None:
    """The owner's replace request, if one is waiting (taken by renaming it, so it is read once)."""
    request = control / "replace.json"
    if not request.exists():
        return None
    taken = control / "replace.taken.json"
    os.replace(request, taken)
    try:
        doc = json.loads(taken.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"replace.json could not be read ({e})") from e
    if not isinstance(doc, dict):
        raise ValueError("replace.json must hold an object")
    return doc


def _take_token(control: Path, state: Any, emitter: Emitter) -> None:
    """A rotated token from the owner (``control/token``, 0600): the next request must carry it, the old one 403s."""
    path = control / "token"
    if not path.exists():
        return
    try:
        state.token = read_token({"token_file": str(path)})
        emitter.emit("endpoint", state="Ready", token_rotated=True)
    except ValueError as e:
        emitter.emit("endpoint", state="Ready", rotate_failed=str(e))
    finally:
        path.unlink(missing_ok=True)


def _replace(doc: dict[str, Any], worker: Any, metrics: Any, run_dir: Path, n: int, emitter: Emitter) -> None:
    from remote_agent.checkpoint_scan import CheckpointError

    try:
        model = _load(model_fields(doc, []), run_dir, f"replace-{n}")
    except (CheckpointError, ValueError, Exception) as e:  # the old model keeps serving; the owner hears why
        message = getattr(e, "message", None) or f"{type(e).__name__}: {e}"
        print(f"replace refused: {message}")
        emitter.emit("endpoint", state="Ready", replace_failed=str(message)[:500])
        return
    worker.swap(model)
    metrics.load_seconds.set(model.load_seconds)
    metrics.replacements.inc()
    emitter.emit("endpoint", state="Ready", replaced=True, model=model.name, task=model.task, format=model.format,
                 load_seconds=round(model.load_seconds, 3))


def run_serve(spec: dict[str, Any], emitter: Emitter, cancel: CancelFlag) -> tuple[str, dict[str, Any]]:
    """Serve until SIGTERM; return ("cancelled", totals). Refusals raise (the caller emits ``failed``)."""
    import uvicorn

    from remote_agent.serve_app import EndpointState, Limits, build_app
    from remote_agent.serve_model import InferenceWorker

    args = dict(spec.get("args") or {})
    token = read_token(args)
    host, port = bind_address(args)
    fields = model_fields(args, list(spec.get("trusted_sha256") or []))
    limits = Limits.from_spec(args.get("limits"))
    run_dir = Path(spec["run_dir"])
    control = run_dir / "control"
    control.mkdir(parents=True, exist_ok=True)
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    url = _url(host, port)
    if host not in LOOPBACK:
        print(f"warning: this endpoint listens on {host}:{port}, reachable from other machines on the network")
    worker = InferenceWorker(None, limits.queue)
    state = EndpointState(token=token, limits=limits, worker=worker)
    loop, http = http_stack()
    config = uvicorn.Config(build_app(state), loop=loop, http=http, log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=int(limits.request_timeout_s))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()  # not the main thread: uvicorn leaves the signals to run.py's SIGTERM → cancel flag
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the HTTP server stopped while starting (see the log)")
            time.sleep(0.02)
        emitter.emit("endpoint", state="Deploying", url=url, host=host, port=port)
        model = _load(fields, run_dir, "serve")
        worker.swap(model)
        state.metrics.load_seconds.set(model.load_seconds)
        state.ready = True
        print(f"serving {model.name} ({model.format}) on {model.threads}; HTTP: uvicorn with {loop} and {http}")
        emitter.emit("endpoint", state="Ready", url=url, host=host, port=port, model=model.name, task=model.task,
                     format=model.format, load_seconds=round(model.load_seconds, 3))
        replacements = 0
        while not cancel.requested:
            if not thread.is_alive():
                raise RuntimeError("the HTTP server stopped unexpectedly (see the log)")
            try:
                doc = _take_replace(control)
            except ValueError as e:
                emitter.emit("endpoint", state="Ready", replace_failed=str(e))
                doc = None
            _take_token(control, state, emitter)
            if doc is not None:
                replacements += 1
                _replace(doc, worker, state.metrics, run_dir, replacements, emitter)
            time.sleep(POLL_S)
        emitter.emit("endpoint", state="Stopping", url=url)
    finally:
        state.ready = False
        server.should_exit = True  # uvicorn stops accepting, finishes open requests, closes the socket
        thread.join(limits.request_timeout_s + 5)
        worker.stop()
        sock.close()
    served = sum(s.value for mt in state.metrics.requests.collect() for s in mt.samples
                 if s.name.endswith("_total") and s.labels.get("path") == "/predict")
    return "cancelled", {"url": url, "port": port, "predict_requests": int(served), "replacements": replacements}
