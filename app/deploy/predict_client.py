"""One picture sent to an endpoint's ``POST /predict``, as a client would: the answer's JSON, or one sentence why not.

The Deploy tab's test panel calls it off the GUI thread; it speaks only HTTP (the token in the header), so what it
shows is what any client of the endpoint gets.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import httpx

TIMEOUT_S = 30.0
MAX_BYTES = 50 * 1024 * 1024  # past the server's own limit (10 MB), so its 413 is what the user sees


class PredictRefused(Exception):
    """The endpoint did not answer with results; the message is one sentence for the user."""


def _detail(r: httpx.Response) -> str:
    try:
        doc = r.json()
    except ValueError:
        return r.text.strip().splitlines()[0][:200] if r.text.strip() else r.reason_phrase
    return str(doc.get("detail") or doc)[:200] if isinstance(doc, dict) else str(doc)[:200]


def _refusal(r: httpx.Response) -> str:
    """The sentence for a non-200 answer: the status, what it means here, and the server's own words."""
    detail = _detail(r)
    meaning = {
        401: "the endpoint wants its bearer token",
        403: "the endpoint refused this token (was it rotated?)",
        413: "the picture is too large for the endpoint",
        415: "the endpoint cannot read this file as a picture",
        422: "the endpoint refused a parameter",
        429: "the endpoint is busy; try again shortly",
        503: "the endpoint is not ready or is busy; try again shortly",
        504: "the endpoint took too long on this picture",
    }.get(r.status_code, "the endpoint failed on this picture")
    return f"{meaning} ({r.status_code}: {detail})"


def send_picture(url: str, token: str | None, path: Path, timeout: float = TIMEOUT_S,
                 params: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST ``path`` to ``url``/predict with ``token``; the response document, or :class:`PredictRefused`."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise PredictRefused(f"{path.name} is {size / 1e6:.0f} MB; the endpoint takes pictures up to 10 MB")
        body = path.read_bytes()
    except OSError as e:
        raise PredictRefused(f"cannot read {path.name}: {e.strerror or e}") from e
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        r = httpx.post(f"{url.rstrip('/')}/predict", files={"file": (path.name, body, mime)},
                       data={k: str(v) for k, v in (params or {}).items()}, headers=headers, timeout=timeout)
    except httpx.TimeoutException as e:
        raise PredictRefused(f"no answer from {url} within {timeout:g} s") from e
    except httpx.HTTPError as e:
        raise PredictRefused(f"the endpoint at {url} does not answer (is it stopped?): {type(e).__name__}") from e
    if r.status_code != 200:
        raise PredictRefused(_refusal(r))
    try:
        doc = r.json()
    except ValueError as e:
        raise PredictRefused("the endpoint answered 200 with something that is not JSON") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise PredictRefused("the endpoint's answer has no images list: is this a YOLO Desk endpoint?")
    return doc
