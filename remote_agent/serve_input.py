"""What an endpoint accepts as a picture: bytes of an image format, checked before they are decoded.

Every refusal is a :class:`InputRefused` carrying the HTTP status the client gets: 413 for too many bytes or
pixels (a decompression bomb is refused from its header, before a pixel is decoded), 415 for bytes that are
not an image, 400 for a URL source this endpoint does not fetch. URL sources (off unless the spec enables
them) are fetched only over http(s), from addresses that resolve to public ones only; the connection goes to
the address we checked (no second DNS answer), within one deadline and a byte cap, redirects re-checked.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import socket
import ssl
import sys
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

import numpy as np

MAX_REDIRECTS = 3


def _pil_open() -> Any:
    """PIL's own ``Image.open``: ultralytics replaces it with one that tries to pip-install a HEIF plugin on a
    file PIL cannot identify, which must not happen per request."""
    patches = sys.modules.get("ultralytics.utils.patches")
    if patches is not None and hasattr(patches, "_image_open"):
        return patches._image_open
    from PIL import Image

    return Image.open


class InputRefused(Exception):
    """The request's picture is refused; ``status`` is the HTTP status, the message says why in one line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def decode_image(data: bytes, max_pixels: int) -> np.ndarray:
    """BGR pixels of ``data`` (as ``cv2.imread`` gives them to ultralytics), after a header check of its size."""
    import cv2
    from PIL import Image

    if not data:
        raise InputRefused(415, "the request holds no image (an empty file)")
    try:
        with _pil_open()(io.BytesIO(data)) as im:  # reads the header only: width and height before any decoding
            width, height = im.size
    except Image.DecompressionBombError as e:  # PIL's own cap, below ours only if ours is set very high
        raise InputRefused(413, f"the image has too many pixels ({e})") from e
    except Exception as e:  # PIL raises many kinds on foreign bytes; all mean the same to the client
        raise InputRefused(415, "the file is not an image this endpoint can read (PNG, JPEG, BMP, WebP, TIFF…)") from e
    if width * height > max_pixels:
        raise InputRefused(413, f"the image has {width} × {height} = {width * height / 1e6:.1f} MP; "
                                f"this endpoint takes at most {max_pixels / 1e6:.1f} MP")
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise InputRefused(415, "the image could not be decoded (damaged, or a format OpenCV does not read)")
    return img


def _public_addresses(host: str, port: int) -> list[tuple[Any, ...]]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise InputRefused(400, f"the URL's host {host!r} does not resolve ({e.strerror or e})") from e
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%")[0])
        if not addr.is_global or addr.is_multicast:  # loopback, private, link-local, reserved, shared, multicast
            raise InputRefused(400, f"the URL's host {host!r} is a non-public address ({addr}); refused")
    return infos


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to the address we checked, with the certificate checked against the URL's host name."""

    def __init__(self, host: str, ip: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self) -> None:
        raw = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, ip: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


def fetch_url(url: str, max_bytes: int, deadline_s: float) -> bytes:
    """The body at ``url`` (http or https, public addresses only), within ``deadline_s`` and ``max_bytes``."""
    end = time.monotonic() + deadline_s
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputRefused(400, f"only http(s) URLs are fetched, not {url[:80]!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        ip = _public_addresses(parts.hostname, port)[0][4][0]
        left = end - time.monotonic()
        if left <= 0:
            raise InputRefused(400, f"the URL did not answer within {deadline_s:.0f} s")
        cls = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
        conn = cls(parts.hostname, ip, port, timeout=left)
        try:
            conn.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
            resp = conn.getresponse()
            if resp.status in (301, 302, 303, 307, 308) and resp.getheader("Location"):
                url = urljoin(url, resp.getheader("Location") or "")
                continue
            if resp.status != 200:
                raise InputRefused(400, f"the URL answered HTTP {resp.status}")
            body = bytearray()
            while chunk := resp.read(65536):
                body += chunk
                if len(body) > max_bytes:
                    raise InputRefused(413, f"the URL's body is over {max_bytes // 1_000_000} MB")
                if time.monotonic() > end:
                    raise InputRefused(400, f"the URL did not answer within {deadline_s:.0f} s")
            return bytes(body)
        except (OSError, http.client.HTTPException) as e:
            raise InputRefused(400, f"the URL could not be fetched ({type(e).__name__}: {e})"[:200]) from e
        finally:
            conn.close()
    raise InputRefused(400, f"the URL redirected more than {MAX_REDIRECTS} times")
