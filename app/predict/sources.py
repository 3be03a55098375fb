"""Where pictures come from: image files, http(s) URLs, folders, video files and cameras (OpenCV).

Everything here raises :class:`SourceError` with a sentence a user can act on; nothing here
imports Qt or torch. A video file and a webcam go through the same :class:`FrameSource`
(``cv2.VideoCapture``), so what the tests prove with a file holds for a camera.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_EXTS = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}
MAX_URL_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 60_000_000  # a 60 MP picture decodes to 180 MB; beyond that, refuse rather than swap
URL_DEADLINE_S = 15.0  # connect + headers + body + redirects, all together
MAX_REDIRECTS = 3


class SourceError(Exception):
    """A picture, URL, video or camera that cannot be read; the message says why."""


def _check_pixels(width: int, height: int, what: str) -> None:
    if width * height > MAX_PIXELS:
        raise SourceError(f"{what} is {width}×{height} pixels ({width * height / 1e6:.0f} MP): too large to predict "
                          f"on (the limit is {MAX_PIXELS / 1e6:.0f} MP); scale it down first")


def decode_image(data: bytes, what: str) -> np.ndarray:
    """BGR pixels from encoded bytes; the size is read from the header before anything is decoded."""
    import cv2
    from PIL import Image, UnidentifiedImageError

    patched = sys.modules.get("ultralytics.utils.patches")  # ultralytics wraps Image.open to pip-install pi-heif
    image_open = getattr(patched, "_image_open", Image.open)
    try:
        with image_open(io.BytesIO(data)) as im:
            _check_pixels(im.width, im.height, what)
    except UnidentifiedImageError as e:
        raise SourceError(f"{what} is not an image (or a format this app cannot read)") from e
    except Image.DecompressionBombError as e:
        raise SourceError(f"{what} is too large to predict on: {e}") from e
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise SourceError(f"{what} could not be decoded: the file is damaged or truncated")
    return img


def load_image(path: str | Path) -> np.ndarray:
    p = Path(path)
    if not p.exists():
        raise SourceError(f"{p} does not exist (moved or deleted?)")
    if p.is_dir():
        raise SourceError(f"{p} is a folder: open it as a folder to step through its images")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise SourceError(f"{p} could not be read: {e.strerror or e}") from e
    return decode_image(data, p.name)


def fetch_url(url: str, timeout: float = URL_DEADLINE_S, max_bytes: int = MAX_URL_BYTES) -> np.ndarray:
    """An image from an http(s) URL: one overall deadline, size-capped, content type checked, few redirects."""
    url = url.strip()
    _check_web_address(url, url)
    fetch = _UrlFetch(url, timeout, max_bytes)
    # The whole fetch (DNS, connect, headers, body, redirects) runs on a thread we can stop waiting for:
    # a socket timeout bounds each read, not their sum, so a server dripping one byte a second would never end.
    worker = threading.Thread(target=fetch.run, name="fetch-url", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        fetch.abort()
        raise SourceError(f"{url} did not send the picture within {timeout:g} s")
    if fetch.error is not None:
        raise fetch.error
    return decode_image(fetch.data, url)


def _check_web_address(url: str, asked: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        if url == asked:
            raise SourceError(f"{url!r} is not an http:// or https:// address")
        raise SourceError(f"{asked} redirects to {url[:200]!r}: only http:// and https:// addresses are followed")


class _UrlFetch:
    """One GET with its redirects, run on a worker thread; ``abort()`` closes the socket it is blocked on."""

    def __init__(self, url: str, timeout: float, max_bytes: int) -> None:
        self.url, self.timeout, self.max_bytes = url, timeout, max_bytes
        self.deadline = time.monotonic() + timeout
        self.data = b""
        self.error: SourceError | None = None
        self.current = url  # the hop being fetched, named in errors (a redirect's target is the one to blame)
        self._conn: http.client.HTTPConnection | None = None
        self._aborted = False

    def abort(self) -> None:
        self._aborted = True
        conn = self._conn
        sock = getattr(conn, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a recv() blocked in the worker thread

    def run(self) -> None:
        try:
            self.data = self._get()
            return
        except SourceError as e:
            self.error = e
            return
        except http.client.HTTPException as e:  # before OSError: RemoteDisconnected is both
            why = f"did not answer as a web server ({type(e).__name__})"
        except (TimeoutError, socket.timeout):
            why = f"did not send the picture within {self.timeout:g} s"
        except OSError as e:
            why = f"could not be reached: {e.strerror or e}"
        except Exception as e:  # noqa: BLE001 — anything else from a hostile server is still one sentence
            why = f"could not be read: {type(e).__name__}: {e}"
        where = self.url if self.current == self.url else f"{self.current[:200]} (redirected from {self.url})"
        self.error = SourceError(f"{where} {why}")

    def _get(self) -> bytes:
        url = self.url
        for _hop in range(MAX_REDIRECTS + 1):
            _check_web_address(url, self.url)
            self.current = url
            parts = urllib.parse.urlsplit(url)
            left = max(0.1, self.deadline - time.monotonic())
            if parts.scheme == "https":
                conn: http.client.HTTPConnection = http.client.HTTPSConnection(parts.hostname, parts.port,
                                                                               timeout=left)
            else:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=left)
            self._conn = conn
            try:
                if self._aborted:
                    raise SourceError(f"{self.url} did not send the picture within {self.timeout:g} s")
                target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                conn.request("GET", target, headers={"User-Agent": "YOLO-Desk", "Accept": "image/*"})
                resp = conn.getresponse()
                if resp.status in (301, 302, 303, 307, 308):
                    location = resp.getheader("Location")
                    if not location:
                        raise SourceError(f"{url} answered {resp.status} (a redirect) without saying where to")
                    url = urllib.parse.urljoin(url, location.strip())
                    continue
                if resp.status != 200:
                    raise SourceError(f"{url} answered {resp.status} {resp.reason}".rstrip())
                return self._body(url, resp)
            finally:
                conn.close()
        raise SourceError(f"{self.url} redirects more than {MAX_REDIRECTS} times: not followed further")

    def _body(self, url: str, resp: http.client.HTTPResponse) -> bytes:
        ctype = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if ctype and not ctype.startswith("image/") and ctype != "application/octet-stream":
            raise SourceError(f"{url} is not an image (the server says it is {ctype[:80]})")
        length = resp.getheader("Content-Length") or ""
        if length.isdigit() and int(length) > self.max_bytes:
            raise SourceError(f"{url} is {int(length) / 2**20:.0f} MB: over the {self.max_bytes / 2**20:.0f} MB limit")
        chunks: list[bytes] = []
        got = 0
        try:
            while got <= self.max_bytes and (chunk := resp.read1(min(1 << 16, self.max_bytes + 1 - got))):
                chunks.append(chunk)
                got += len(chunk)
        except http.client.IncompleteRead as e:
            raise SourceError(f"{url} stopped sending before the picture was complete") from e
        if got > self.max_bytes:
            raise SourceError(f"{url} is over the {self.max_bytes / 2**20:.0f} MB limit")
        if not chunks:
            raise SourceError(f"{url} sent no data")
        return b"".join(chunks)


def folder_images(folder: str | Path) -> list[Path]:
    p = Path(folder)
    if not p.is_dir():
        raise SourceError(f"{p} is not a folder")
    images = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_EXTS and f.is_file())
    if not images:
        raise SourceError(f"{p} holds no images ({', '.join(sorted(IMAGE_EXTS))})")
    return images


@dataclass(frozen=True)
class Camera:
    index: int
    name: str


def list_cameras(max_index: int = 10) -> list[Camera]:
    """Cameras this machine has (Linux: /sys/class/video4linux, capture devices only); elsewhere, probed with OpenCV."""
    sysfs = Path("/sys/class/video4linux")
    if sysfs.is_dir():
        found = []
        for dev in sorted(sysfs.glob("video*"), key=lambda d: int(d.name[5:] or 0)):
            index = int(dev.name[5:])
            try:
                name = (dev / "name").read_text().strip()
                idx = int((dev / "index").read_text().strip()) if (dev / "index").exists() else 0
            except (OSError, ValueError):
                continue
            if idx == 0:  # a camera's metadata nodes have index 1
                found.append(Camera(index, name))
        return found
    if sys.platform.startswith("linux"):
        return []  # no video4linux devices at all
    import cv2

    out = []
    for i in range(max_index):
        cap = cv2.VideoCapture(i)
        if cap.isOpened():
            out.append(Camera(i, f"Camera {i}"))
        cap.release()
    return out


class FrameSource:
    """A video file or a camera through ``cv2.VideoCapture``; ``read()`` gives BGR frames, None at the end."""

    def __init__(self, source: str | int) -> None:
        import cv2

        self.source = source
        self.is_camera = isinstance(source, int)
        if not self.is_camera and not Path(str(source)).exists():
            raise SourceError(f"{source} does not exist (moved or deleted?)")
        self.cap = cv2.VideoCapture(source)
        if not self.cap.isOpened():
            what = f"camera {source}" if self.is_camera else Path(str(source)).name
            raise SourceError(f"{what} could not be opened" + (" (in use by another program, or no permission?)"
                                                                if self.is_camera else ": not a video OpenCV can read"))
        self.fps = float(self.cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0
        self.frame_count = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        ok, first = self.cap.read()
        if not ok or first is None:
            self.cap.release()
            what = f"camera {source}" if self.is_camera else Path(str(source)).name
            raise SourceError(f"{what} gave no picture: " + ("is it connected?" if self.is_camera else
                                                              "the file is damaged or empty"))
        self._first: np.ndarray | None = first

    def read(self) -> np.ndarray | None:
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        ok, frame = self.cap.read()
        return frame if ok else None

    def release(self) -> None:
        self.cap.release()


class SyntheticFrames:
    """Frames made in code at a fixed rate (for tests and benchmarks without a camera): a moving square on noise."""

    is_camera = True

    def __init__(self, size: int = 320, fps: float = 30.0, count: int | None = None) -> None:
        self.size, self.fps, self.count = size, fps, count
        self.n = 0
        self._next = time.monotonic()
        rng = np.random.default_rng(0)
        self._bg = rng.integers(40, 90, size=(size, size, 3), dtype=np.uint8)

    def read(self) -> np.ndarray | None:
        if self.count is not None and self.n >= self.count:
            return None
        delay = self._next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next = max(self._next + 1.0 / self.fps, time.monotonic())
        img = self._bg.copy()
        x = (self.n * 4) % (self.size - 60)
        img[40:100, x:x + 60] = (60, 60, 230)
        self.n += 1
        return img

    def release(self) -> None:
        pass


class ReplayFrames:
    """The same pre-made frames served like a camera at ``fps`` for ``seconds`` (benchmarks; picklable for the helper).

    The clock starts at the first read, so the time it takes to hand the source to another process is not counted.
    """

    is_camera = True

    def __init__(self, frames: list[np.ndarray], fps: float, seconds: float) -> None:
        self.frames, self.fps, self.seconds, self.n = frames, fps, seconds, 0
        self._end: float | None = None
        self._next = 0.0

    def read(self) -> np.ndarray | None:
        now = time.monotonic()
        if self._end is None:
            self._end, self._next = now + self.seconds, now
        if now > self._end:
            return None
        delay = self._next - now
        if delay > 0:
            time.sleep(delay)
        self._next = max(self._next + 1 / self.fps, time.monotonic())
        frame = self.frames[self.n % len(self.frames)]
        self.n += 1
        return frame

    def release(self) -> None:
        pass


class LatestFrame:
    """A capture thread that keeps only the newest frame: a slow consumer never builds a queue.

    ``take()`` returns the newest frame not yet taken (waiting up to ``timeout``) and how many
    frames were dropped since the last take.
    """

    def __init__(self, source: Any) -> None:
        self.source = source
        self._frame: np.ndarray | None = None
        self._seq = 0
        self._taken = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self.ended = False
        self.captured = 0
        self.dropped = 0
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, name="capture", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self.source.read()
                if frame is None:
                    break
                with self._cond:
                    if self._frame is not None:
                        self.dropped += 1  # the previous one was never taken
                    self._frame = frame
                    self._seq += 1
                    self.captured += 1
                    self._cond.notify_all()
                if not getattr(self.source, "is_camera", False):
                    fps = getattr(self.source, "fps", 30.0)
                    time.sleep(1.0 / fps if fps else 0)  # a file plays at its own rate, like a camera
        except Exception as e:  # noqa: BLE001 — reported to the consumer, never lost in a thread
            self.error = f"{type(e).__name__}: {e}"
        finally:
            with self._cond:
                self.ended = True
                self._cond.notify_all()
            self.source.release()

    def take(self, timeout: float = 1.0) -> np.ndarray | None:
        with self._cond:
            if self._frame is None and not self.ended:
                self._cond.wait(timeout)
            frame, self._frame = self._frame, None
            return frame

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)
