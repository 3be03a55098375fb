"""The loading gate: the one way any process of ours opens a ``.pt`` (train, fine-tune, export, predict; later val, serve).

A ``.pt`` is a pickle, and a pickle can run code: through a REDUCE of ``os.system``, and also through a model
class that ultralytics' allow-list accepts, constructed with a config whose strings ultralytics ``eval``s while
it builds layers. So, unless the user trusted the file's sha256:

1. only a regular file is opened (a FIFO or a device would hang or lie), and it is copied once into a private
   folder while being hashed, so the bytes hashed, scanned and loaded are the same bytes;
2. the copy goes through the inspector's scan (``checkpoint_scan.scan_checkpoint``, what ``yolodesk inspect``
   runs) and is refused if the scan refuses it;
3. the copy is loaded by ultralytics' safe loader (``weights_only`` against its allow-list, layers built without
   ``eval``), and refused if that refuses it.

A trusted file is copied and hashed the same way, then loaded plainly. Refusals raise
:class:`~remote_agent.checkpoint_scan.CheckpointError` (code ``untrusted_checkpoint`` or the scan's), whose
``details`` carry the sha256 so that the app can offer to trust exactly these bytes.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import stat
import tempfile
import threading
from collections.abc import Collection
from pathlib import Path
from typing import Any

from remote_agent.checkpoint_scan import CheckpointError, scan_checkpoint

SAFE_LOAD_ENV = "ULTRALYTICS_SAFE_LOAD"
UNTRUSTED = "untrusted_checkpoint"
TRUSTABLE = frozenset({UNTRUSTED, "executable_code"})  # refusals about code in the file: the user may trust it
TRUST_HINT = "trust it only if you know where it came from: --trust / the trust prompt"
_LOAD_LOCK = threading.Lock()  # ultralytics' SAFE_LOAD is one flag for the whole process: one gated load at a time
_CHUNK = 1 << 20
# What ultralytics' restricted path says when it blocks something (torch_safe_load, _SafeLoad.activation, parse_model)
_SAFE_LOADER_REFUSALS = ("outside the supported Ultralytics checkpoint format", "blocked during restricted model load",
                         "not a permitted model layer under restricted loading", "Weights only load failed")


def require_safe_load_env() -> None:
    """Switch ultralytics' safe loader on for this whole process; call before ultralytics is imported."""
    os.environ[SAFE_LOAD_ENV] = "1"


def private_copy(path: str | os.PathLike[str], dest: Path) -> str:
    """Copy the regular file at ``path`` to ``dest`` (a new file, owner-only), hashing the bytes copied.

    Returns their sha256. Anything but a regular file is refused before a byte is read.
    """
    src = Path(path)
    try:
        st = os.stat(src)
    except FileNotFoundError as e:
        raise CheckpointError("missing", f"{src.name}: the file is not there") from e
    except OSError as e:
        raise CheckpointError("unreadable", f"{src.name}: cannot read it ({e.strerror or e})") from e
    if not stat.S_ISREG(st.st_mode):
        raise CheckpointError("not_regular_file", f"{src.name}: not a regular file (a folder, pipe, socket or device)")
    # O_NONBLOCK: if the path was swapped for a FIFO since the stat, opening it must not hang
    fd = os.open(src, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CheckpointError("not_regular_file", f"{src.name}: not a regular file")
        os.set_blocking(fd, True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            while block := os.read(fd, _CHUNK):
                h.update(block)
                os.write(out, block)
        finally:
            os.close(out)
    finally:
        os.close(fd)
    return h.hexdigest()


def check_checkpoint(path: Path) -> None:
    """The inspector's verdict on ``path``; raises :class:`CheckpointError` when it refuses the file."""
    scan_checkpoint(path)


def _refusal(name: str, sha256: str, detail: str) -> CheckpointError:
    first = detail.strip().splitlines()[0] if detail.strip() else "refused"
    first = first.replace("ERROR ❌️ ", "")[:300]
    return CheckpointError(UNTRUSTED, f"{name}: the safe loader refused it ({first}); {TRUST_HINT}",
                           {"sha256": sha256, "file": name})


def _load(copy: Path, task: str | None, safe: bool, name: str, sha256: str) -> Any:
    import ultralytics.nn.tasks as tasks
    from ultralytics import YOLO

    with _LOAD_LOCK:
        saved = tasks.SAFE_LOAD
        tasks.SAFE_LOAD = safe  # read at call time by torch_safe_load and _SafeLoad.restricted (parse_model)
        try:
            return YOLO(str(copy), task=task)
        except (TypeError, pickle.UnpicklingError) as e:
            if safe and (isinstance(e, pickle.UnpicklingError) or any(s in str(e) for s in _SAFE_LOADER_REFUSALS)):
                raise _refusal(name, sha256, str(e)) from e
            raise CheckpointError("unloadable", f"{name}: ultralytics could not load it ({_first_line(e)})",
                                  {"sha256": sha256, "file": name}) from e
        except Exception as e:  # a damaged or foreign file: a verdict, not a traceback
            raise CheckpointError("unloadable", f"{name}: ultralytics could not load it ({_first_line(e)})",
                                  {"sha256": sha256, "file": name}) from e
        finally:
            tasks.SAFE_LOAD = saved


def _first_line(e: BaseException) -> str:
    text = str(e).strip().replace("ERROR ❌️ ", "")
    return f"{type(e).__name__}: {text.splitlines()[0][:300]}" if text else type(e).__name__


def load_yolo(path: str | os.PathLike[str], *, task: str | None = None, trusted: Collection[str] = (),
              copy_to: Path | None = None) -> Any:
    """Open the ``.pt`` at ``path`` as an ultralytics ``YOLO``, through the gate (see the module's docstring).

    ``trusted``: sha256 digests the user chose to load plainly. ``copy_to``: where the private copy goes (it stays
    there, e.g. in the job's run folder, since ultralytics writes exports next to it); by default a temporary
    folder removed once the model is in memory. The model's ``gate_sha256`` is the sha256 of the loaded bytes.
    """
    name = Path(path).name
    tmp = None
    if copy_to is None:
        tmp = tempfile.mkdtemp(prefix="yolodesk-gate-")  # mode 0700: nobody else can swap the copy
        copy = Path(tmp) / (name if name.endswith(".pt") else "weights.pt")
    else:
        copy = copy_to
        copy.unlink(missing_ok=True)
    try:
        sha256 = private_copy(path, copy)
        is_trusted = sha256 in set(trusted)
        if not is_trusted:
            try:
                check_checkpoint(copy)
            except CheckpointError as e:
                e.details = {**e.details, "sha256": sha256, "file": name}
                e.message = f"{name}: {e.message}"
                e.args = (e.message,)
                raise
        model = _load(copy, task, not is_trusted, name, sha256)
        model.gate_sha256 = sha256
        return model
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
