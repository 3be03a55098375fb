"""``yolodesk predict MODEL SOURCE [conf=… iou=… imgsz=…] [--backend NAME] [--save DIR] [--json]``."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

from app.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, open_library, parse_pairs, path_exists


def _pick_model(ref: str) -> tuple[Any, str | None, list[Any], str | None]:
    """(weights path, task, exports, sha256) for a library model or a file given directly."""
    p = Path(ref)
    if path_exists(p):
        return p, None, [], None
    from app.exporters.store import ExportStore
    from app.library.untrusted import utf8_text

    lib = open_library()
    m = lib.find_model(utf8_text(ref))  # a name holds undecodable bytes as \xff, as the import stored it
    return m.weights_path, m.task, ExportStore(lib).for_model(m.id), m.sha256


def _trusted_sha256(choice: Any, sha256: str | None, trust: bool) -> list[str]:
    """The .pt's sha256 if the user trusts it (``--trust`` records it in the library first); else nothing."""
    if choice.format != "pt" or not Path(choice.path).is_file():
        return []
    from remote_agent.checkpoint_scan import sha256_file

    sha256 = sha256 or sha256_file(choice.path)
    lib = open_library()
    if trust:
        lib.trust_checkpoint(sha256, Path(choice.path).name)
    return [sha256] if trust or lib.is_trusted(sha256) else []


def _frames(source: str, fetched: Any = None) -> Any:
    """(label, image) pairs for an image, URL (``fetched`` already, if given), folder, video file or ``camera:N``."""
    from app.predict.sources import IMAGE_EXTS, FrameSource, fetch_url, folder_images, load_image

    if source.startswith(("http://", "https://")):
        yield source, fetched if fetched is not None else fetch_url(source)
        return
    if source.startswith("camera:"):
        fs = FrameSource(int(source.split(":", 1)[1]))
    else:
        p = Path(source)
        if p.is_dir():
            for f in folder_images(p):
                yield str(f), load_image(f)
            return
        if p.suffix.lower() in IMAGE_EXTS or not p.exists():
            yield str(p), load_image(p)
            return
        fs = FrameSource(str(p))
    n = 0
    try:
        while (frame := fs.read()) is not None:
            yield f"{source}#{n}", frame
            n += 1
    finally:
        fs.release()


def _value_problems(kv: dict[str, Any]) -> dict[str, str]:
    """conf and iou in [0, 1], imgsz a whole number of pixels 32…4096: refused before a model is loaded."""
    problems = {}
    for key in ("conf", "iou"):
        value = kv.get(key, 0.5)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:  # NaN fails too
            problems[key] = f"must be a number from 0 to 1, not {value!r}"
    size = kv.get("imgsz", 640)
    if isinstance(size, bool) or not isinstance(size, int | float) or size != size or not 32 <= size <= 4096 \
            or not float(size).is_integer():
        problems["imgsz"] = f"must be a whole number of pixels from 32 to 4096, not {size!r}"
    return problems


def _source_problem(source: str) -> str | None:
    """Why SOURCE cannot be predicted on, found without loading a model (None when it may be fine)."""
    from app.library.untrusted import printable
    from app.predict.sources import SourceError, folder_images

    if source.startswith(("http://", "https://")):
        return None
    if "://" in source:
        return f"{printable(source)}: only http(s) URLs are fetched"
    if source.startswith("camera:"):
        index = source.split(":", 1)[1]
        return None if index.isdigit() else f"{printable(source)}: a camera is camera:N, N a number from 0"
    try:
        st = os.stat(source)
    except (OSError, ValueError) as e:
        return f"{printable(source)[:200]} does not exist" if isinstance(e, FileNotFoundError) or not source else \
            f"{printable(source)[:200]}: {getattr(e, 'strerror', None) or e}"
    if stat.S_ISDIR(st.st_mode):
        try:
            folder_images(source)
        except SourceError as e:
            return printable(str(e))
        return None
    if not stat.S_ISREG(st.st_mode):  # a FIFO or /dev/zero would be read for ever
        return f"{printable(source)}: not a regular file, a folder, a URL or camera:N"
    return None


def cmd_predict(args: argparse.Namespace) -> int:
    from app.library.repository import LibraryError
    from app.predict.session import (
        BackendChoice, NeedsTrust, PredictError, PredictSession, backend_choices, default_backend,
    )
    from app.predict.sources import SourceError

    try:
        kv = parse_pairs(args.pairs)
    except ValueError as e:
        return fail("predict", e, EXIT_USAGE)
    unknown = set(kv) - {"conf", "iou", "imgsz"}
    if unknown:
        print(f"yolodesk predict: unknown argument(s) {', '.join(sorted(unknown))} (conf, iou, imgsz)", file=sys.stderr)
        return EXIT_USAGE
    for key, problem in _value_problems(kv).items():
        print(f"yolodesk predict: {key}: {problem}", file=sys.stderr)
    if _value_problems(kv):
        return EXIT_USAGE
    if (problem := _source_problem(args.source)) is not None:
        return fail("predict", problem)
    if args.save and path_exists(args.save) and not Path(args.save).is_dir():
        return fail("predict", f"--save {args.save}: not a folder")
    try:
        weights, task, exports, sha = _pick_model(args.model)
    except LibraryError as e:
        return fail("predict", e)
    if Path(weights).suffix != ".pt" and Path(args.model).exists():  # an export given directly
        choice = BackendChoice(Path(weights).suffix or "export", "export", str(weights), None, False)
    else:
        choices = backend_choices(weights, exports)
        if args.backend:
            wanted = [c for c in choices if args.backend.lower() in (c.format, c.name.lower())]
            if not wanted:
                have = ", ".join(c.format for c in choices) or "none"
                print(f"yolodesk predict: no verified {args.backend} export of this model here (have: {have})",
                      file=sys.stderr)
                return EXIT_FAILED
            choice = wanted[0]
        else:
            choice = default_backend(choices)
        if choice is None:
            print(f"yolodesk predict: {weights} is not there", file=sys.stderr)
            return EXIT_FAILED
    fetched = None
    if args.source.startswith(("http://", "https://")):  # an unreachable URL is told before the model loads
        from app.predict.sources import fetch_url

        try:
            fetched = fetch_url(args.source)
        except SourceError as e:
            return fail("predict", e)
    try:
        trusted = _trusted_sha256(choice, sha, args.trust)
        session = PredictSession(choice, task, trusted=trusted)
    except LibraryError as e:
        return fail("predict", e)
    except NeedsTrust as e:
        print(f"yolodesk predict: {e}\nIf you trust it: yolodesk predict … --trust", file=sys.stderr)
        return EXIT_FAILED
    except PredictError as e:
        return fail("predict", e)
    save = Path(args.save) if args.save else None
    if save:
        save.mkdir(parents=True, exist_ok=True)
    try:
        for label, image in _frames(args.source, fetched):
            pred = session.predict(image, conf=float(kv.get("conf", 0.25)), iou=float(kv.get("iou", 0.7)),
                                   imgsz=int(kv.get("imgsz", 640)), source=label)
            if args.json:  # JSON Lines: one object a line, printed as it comes (a video or camera is a stream)
                print(json.dumps(pred.to_json()), flush=True)
            if save:
                import cv2

                name = Path(label.split("#")[0].split("?")[0]).stem or "image"
                suffix = f"_{int(label.split('#')[1]):06d}" if "#" in label else ""
                cv2.imwrite(str(save / f"{name}{suffix}.jpg"), pred.render())
            if not args.json:
                what = ", ".join(f"{d.name} {d.confidence:.2f}" for d in pred.detections[:8]) or \
                    ", ".join(f"{t['name']} {t['confidence']:.2f}" for t in pred.top5) or "nothing found"
                more = f" (+{len(pred.detections) - 8})" if len(pred.detections) > 8 else ""
                s = pred.speed
                print(f"{label}: {what}{more}  [{pred.backend}: {s.get('preprocess', 0):.1f} + "
                      f"{s.get('inference', 0):.1f} + {s.get('postprocess', 0):.1f} ms]", flush=True)
    except SourceError as e:
        return fail("predict", e)  # the lines printed so far stay valid JSON Lines
    except PredictError as e:
        return fail("predict", e)
    if save and not args.json:
        print(f"annotated pictures written to {save}")
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("predict", help="predict on an image, URL, folder, video file or camera:N")
    s.add_argument("model", metavar="MODEL", help="a library model (id or name), a .pt, or an exported model")
    s.add_argument("source", metavar="SOURCE", help="image, http(s) URL, folder, video file, or camera:N")
    s.add_argument("pairs", nargs="*", metavar="key=value", help="conf=0.25 iou=0.7 imgsz=640")
    s.add_argument("--backend", metavar="NAME", help="pt, onnx, openvino, torchscript, engine (default: the fastest "
                                                     "verified one here)")
    s.add_argument("--save", metavar="DIR", help="write the annotated pictures there")
    s.add_argument("--json", action="store_true", help="JSON Lines: one JSON object per image or frame, a line each")
    s.add_argument("--trust", action="store_true",
                   help="trust this .pt (its sha256 is remembered in the library) and load it even if the safe loader "
                        "refuses it: that runs code from the file, only for files you trust")
    s.set_defaults(func=cmd_predict)
