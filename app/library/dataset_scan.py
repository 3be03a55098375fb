"""Check a data set on disk the way ultralytics will read it, without letting ultralytics download or run anything.

A ``data.yaml`` (detect / segment / pose / obb) or a classification folder (``train/ val/ [test/]`` with one
sub-folder per class) is walked once: images per split, instances per class per split, and what is wrong per file
(a missing label, a line with the wrong column count for the task, a class id ≥ nc, coordinates outside 0…1, an
image that does not decode). Paths follow ultralytics' conventions (``data/utils.py``: ``img2label_paths`` maps the
last ``/images/`` to ``/labels/``; a split is a folder, a ``.txt`` list of images, or a list of either).
"""

from __future__ import annotations

import math
import os
import stat
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from remote_agent.data_check import load_yaml_like_ultralytics, yaml_reason

# ultralytics.data.utils.IMG_FORMATS (8.4), copied: importing ultralytics would pull in torch
IMG_FORMATS = {"avif", "bmp", "dng", "heic", "heif", "jp2", "jpeg", "jpeg2000", "jpg", "mpo", "png", "tif", "tiff",
               "webp", "pfm"}
SPLITS = ("train", "val", "test")
SAMPLES_PER_SPLIT = 24  # image paths kept in the stats for the dataset page's grid
MAX_PROBLEMS_KEPT = 500  # a broken set of 100k images would otherwise store 100k lines
MAX_FILES_LISTED = 2_000_000  # files under one split's folder; beyond it the path is surely wrong
MAX_FILES_SIZED = 500_000  # files counted for the size: COCO's ~240k fit; `path: /` stops here (seconds, not a minute)
MAX_CLASSES = 100_000  # an `nc:` beyond it would only fill memory with made-up names
MAX_YAML_BYTES = 8 * 1024**2  # 100k class names fit in 2 MB; a bigger data.yaml is not one (and parses for minutes)

Progress = Callable[[int, int, str], None]  # (done, total, what)
Cancel = Callable[[], bool]


class ScanCancelled(Exception):
    """The scan was cancelled through its ``cancel`` callback."""


class DatasetUnusable(Exception):
    """The path is not a data set that can be used (no data.yaml, a refused YAML, no images); ``scan`` holds what
    a scan found when it got that far (its per-file problems)."""

    def __init__(self, message: str, scan: ScanResult | None = None) -> None:
        super().__init__(message)
        self.scan = scan


@dataclass
class Problem:
    """One thing wrong with one file; ``error`` problems make the file unusable, ``warning`` ones do not."""

    file: str
    message: str
    severity: str = "error"


@dataclass
class SplitStats:
    """What one split holds: images, images with a label file, instances per class name, background images."""

    images: int = 0
    labelled: int = 0
    instances: dict[str, int] = field(default_factory=dict)
    background: int = 0


@dataclass
class ScanResult:
    """A data set as scanned: its layout, classes, counts per split, problems, size on disk and sample images."""

    location: str  # what training is given: the data.yaml, or the classification folder
    root: str  # the folder the data lives in
    kind: str  # yaml | folder | zip
    task: str
    names: list[str]
    kpt_shape: list[int] | None = None
    splits: dict[str, SplitStats] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    size: int = 0
    size_counted: bool = True  # False: the size walk hit MAX_FILES_SIZED, ``size`` is a lower bound
    samples: dict[str, list[str]] = field(default_factory=dict)  # split -> image paths (absolute)
    source: str | None = None  # the zip it came from

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def usable(self) -> bool:
        """Trainable: a train split and a val split with images (bad files are skipped by ultralytics)."""
        return self.unusable_reason is None

    @property
    def unusable_reason(self) -> str | None:
        """Why training could not use it, or None."""
        empty = [s for s in ("train", "val") if not (self.splits.get(s) and self.splits[s].images > 0)]
        return f"no images in {' and '.join(empty)}" if empty else None

    def stats(self) -> dict[str, Any]:
        """The JSON kept in ``datasets.stats``."""
        return {"root": self.root, "kpt_shape": self.kpt_shape, "source": self.source,
                "splits": {k: asdict(v) for k, v in self.splits.items()},
                "problems": [asdict(p) for p in self.problems[:MAX_PROBLEMS_KEPT]],
                "problem_count": self.problem_count, "samples": self.samples,
                "size_counted": self.size_counted}

    def add_problem(self, file: str | Path, message: str, severity: str = "error") -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(Problem(str(file), message, severity))


def scan_dataset(path: str | Path, progress: Progress | None = None, cancel: Cancel | None = None,
                 task: str | None = None) -> ScanResult:
    """Scan the data.yaml or classification folder at ``path``; raises :class:`DatasetUnusable` with a one-line
    reason when it is not a data set at all, :class:`ScanCancelled` when ``cancel()`` turned True."""
    path = Path(path)
    if not path.exists():
        raise DatasetUnusable(f"{path} does not exist")
    if path.is_dir():
        yamls = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
        if (path / "train").is_dir():
            return _scan_classify(path, progress, cancel)
        if len(yamls) == 1:
            path = yamls[0]
        else:
            raise DatasetUnusable(f"{path} is neither a classification folder (train/ and val/ with a folder per "
                                  "class) nor a folder with one data.yaml")
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise DatasetUnusable(f"{path.name} is not a data.yaml, a classification folder or a .zip of either")
    if not path.is_file():  # a FIFO or device named data.yaml would block the read for ever
        raise DatasetUnusable(f"{path.name} is not a regular file")
    return _scan_yaml(path, progress, cancel, task)


# ------------------------------------------------------------------------------------------------------- data.yaml
def _names(data: dict[str, Any]) -> list[str]:
    names = data.get("names")
    entries = names.values() if isinstance(names, dict) else names if isinstance(names, list) else []
    if any(isinstance(n, (list, dict)) for n in entries):  # a YAML alias bomb would str() to gigabytes
        raise DatasetUnusable("`names:` entries must be class names, not lists or mappings")
    if len(entries) > MAX_CLASSES:
        raise DatasetUnusable(f"`names:` lists {len(entries)} classes (at most {MAX_CLASSES})")
    if isinstance(names, dict):
        try:
            return [str(names[k]) for k in sorted(names, key=int)]
        except (TypeError, ValueError):
            raise DatasetUnusable("`names:` keys must be class ids 0, 1, 2…") from None
    if isinstance(names, list):
        return [str(n) for n in names]
    if isinstance(data.get("nc"), int) and data["nc"] > MAX_CLASSES:
        raise DatasetUnusable(f"`nc: {data['nc']}` is more than {MAX_CLASSES} classes")
    if isinstance(data.get("nc"), int) and data["nc"] > 0:
        return [f"class{i}" for i in range(data["nc"])]
    raise DatasetUnusable("the data.yaml has no `names:` (nor `nc:`)")


def _split_images(root: Path, spec: Any, result: ScanResult, cancel: Cancel | None) -> list[Path]:
    """The image files of one split entry: a folder (searched recursively), a .txt list, or a list of these."""
    images: list[Path] = []
    for entry in spec if isinstance(spec, list) else [spec]:
        if isinstance(entry, (list, dict)):  # nested lists are no path (and an alias bomb would str() to gigabytes)
            result.add_problem(root, "a split lists a list or mapping where a folder or .txt list goes")
            continue
        p = Path(str(entry)).expanduser()
        p = p if p.is_absolute() else root / p
        if p.is_dir():
            found = []
            for n, f in enumerate(p.rglob("*.*")):  # a `train: /` must stay cancellable and bounded
                if n % 4096 == 0:
                    _tick(None, cancel, 0, 0, "")
                if n > MAX_FILES_LISTED:
                    raise DatasetUnusable(f"{p} holds more than {MAX_FILES_LISTED} files: is the split's path right?")
                if f.suffix[1:].lower() in IMG_FORMATS and f.is_file():
                    found.append(f)
            images += sorted(found)
        elif p.is_file() and p.suffix == ".txt":
            for line in p.read_text(errors="replace").splitlines():
                line = line.strip()
                if line:
                    f = Path(line)
                    images.append(f if f.is_absolute() else p.parent / line.removeprefix("./"))
        else:
            result.add_problem(p, "this split's folder or list does not exist")
    return images


def label_path(image: Path) -> Path:
    """ultralytics' ``img2label_paths``: the last ``/images/`` becomes ``/labels/``, the suffix ``.txt``."""
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    s = str(image)
    head, sep, tail = s.rpartition(sa)
    return Path((head + sb + tail) if sep else s).with_suffix(".txt")


def _guess_task(rows: list[list[str]]) -> str:
    """detect (mostly 5 columns), obb (mostly 9), segment (polygons: 1 + 2k columns, k varying); a few bad lines
    do not change the verdict, they are reported against it."""
    lengths = Counter(len(r) for r in rows)
    if not lengths:
        return "detect"
    polygons = sum(n for k, n in lengths.items() if k >= 7 and k % 2 and k != 9)
    if polygons >= 0.2 * sum(lengths.values()):
        return "segment"
    return "obb" if lengths.most_common(1)[0][0] == 9 else "detect"


def _scan_yaml(yaml_path: Path, progress: Progress | None, cancel: Cancel | None, task: str | None) -> ScanResult:
    if yaml_path.stat().st_size > MAX_YAML_BYTES:
        raise DatasetUnusable(f"{yaml_path.name} is {yaml_path.stat().st_size / 1024**2:.1f} MB: not a data.yaml "
                              f"(at most {MAX_YAML_BYTES // 1024**2} MB)")
    reason = yaml_reason(yaml_path)
    if reason:
        raise DatasetUnusable(reason)
    try:
        data = load_yaml_like_ultralytics(yaml_path)
    except (OSError, ValueError) as e:
        raise DatasetUnusable(str(e)) from None
    if not isinstance(data, dict):
        raise DatasetUnusable(f"{yaml_path.name} is not a mapping of train/val/names")
    names = _names(data)
    # ultralytics resolves a relative `path:` against its own DATASETS_DIR; next to the YAML is what a user means
    root = Path(str(data.get("path") or ".")).expanduser()
    root = root if root.is_absolute() else (yaml_path.parent / root)
    kpt = data.get("kpt_shape")
    kpt_shape = [int(k) for k in kpt] if isinstance(kpt, list) and len(kpt) == 2 and all(
        isinstance(k, int) for k in kpt) else None
    if kpt is not None and not (kpt_shape and kpt_shape[0] > 0 and kpt_shape[1] in (2, 3)):
        raise DatasetUnusable("`kpt_shape:` must be [keypoints, 2 or 3]: two whole numbers, the second 2 or 3")
    result = ScanResult(str(yaml_path), str(root), "yaml", task or ("pose" if kpt_shape else ""), names, kpt_shape)
    for key in ("train", "val"):
        if not data.get(key):
            raise DatasetUnusable(f"{yaml_path.name} has no `{key}:` split")
    per_split = {s: _split_images(root, data[s], result, cancel) for s in SPLITS if data.get(s)}
    total = sum(len(v) for v in per_split.values())
    done = 0
    parsed: list[tuple[str, Path, list[list[str]] | None]] = []
    for split, images in per_split.items():
        for image in images:
            _tick(progress, cancel, done, total, image.name)
            done += 1
            lp = label_path(image)
            try:
                rows = [line.split() for line in _read_label(lp).splitlines() if line.strip()]
            except FileNotFoundError:
                rows = None
            except OSError as e:
                result.add_problem(lp, f"the label cannot be read: {e.strerror or e}")
                rows = []
            parsed.append((split, image, rows))
    if not result.task:
        result.task = _guess_task([r for _, _, rows in parsed if rows for r in rows])
    for split in per_split:
        result.splits[split] = SplitStats(instances={n: 0 for n in names})
    for split, image, rows in parsed:
        stats = result.splits[split]
        stats.images += 1
        if len(result.samples.setdefault(split, [])) < SAMPLES_PER_SPLIT:
            result.samples[split].append(str(image))
        _check_image(image, result)
        if rows is None:
            result.add_problem(image, f"no label file ({label_path(image).name}): trained as background", "warning")
            stats.background += 1
            continue
        stats.labelled += 1
        if not rows:
            stats.background += 1
        _check_rows(label_path(image), rows, result, stats)
    result.size, result.size_counted = _size_on_disk(root, yaml_path, cancel)
    _tick(progress, None, total, total, "done")
    return result


def _check_rows(lp: Path, rows: list[list[str]], result: ScanResult, stats: SplitStats) -> None:
    """Each line of a label file against the task's format (ultralytics ``verify_image_label``)."""
    nc, task = len(result.names), result.task
    for n, row in enumerate(rows, 1):
        where = f"line {n}"
        want = _columns_ok(task, len(row), result.kpt_shape)
        if want:
            result.add_problem(lp, f"{where}: {len(row)} columns, a {task} label has {want}")
            continue
        try:
            values = [float(v) for v in row]
        except ValueError:
            result.add_problem(lp, f"{where}: a value is not a number")
            continue
        if not all(math.isfinite(v) for v in values):  # ultralytics refuses NaN/inf too; int(nan) would raise
            result.add_problem(lp, f"{where}: a value is NaN or infinite")
            continue
        cls = values[0]
        if cls != int(cls) or cls < 0:
            result.add_problem(lp, f"{where}: class id {row[0][:20]} is not a whole number ≥ 0")
            continue
        if int(cls) >= nc:
            result.add_problem(lp, f"{where}: class id {row[0][:20]} ≥ nc ({nc} classes)")
            continue
        coords = values[1:5] + _kpt_xy(values[5:], result.kpt_shape) if task == "pose" else values[1:]
        if any(v < 0 or v > 1 for v in coords):
            result.add_problem(lp, f"{where}: coordinates outside 0…1 (labels must be normalised)")
            continue
        name = result.names[int(cls)]
        stats.instances[name] = stats.instances.get(name, 0) + 1


def _read_label(lp: Path) -> str:
    """A label file's text; a FIFO or device in its place is an ``OSError`` instead of a read that never returns."""
    fd = os.open(lp, os.O_RDONLY | os.O_NONBLOCK)
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{lp.name} is not a regular file")
        return f.read().decode(errors="replace")


def _kpt_xy(values: list[float], kpt_shape: list[int] | None) -> list[float]:
    ndim = kpt_shape[1] if kpt_shape else 3
    return [v for i, v in enumerate(values) if i % ndim < 2]


def _columns_ok(task: str, n: int, kpt_shape: list[int] | None) -> str | None:
    """None if ``n`` columns fit the task, else what it expects."""
    if task == "detect":
        return None if n == 5 else "5 (class x y w h)"
    if task == "obb":
        return None if n == 9 else "9 (class x1 y1 … x4 y4)"
    if task == "segment":
        return None if n == 5 or (n >= 7 and n % 2 == 1) else "1 + 2×points (at least 3 points)"
    if task == "pose":
        want = 5 + (kpt_shape[0] * kpt_shape[1] if kpt_shape else 0)
        return None if (kpt_shape and n == want) or (not kpt_shape and n > 5) else f"{want} (box + keypoints)"
    return None


# --------------------------------------------------------------------------------------------------- classify
def _scan_classify(root: Path, progress: Progress | None, cancel: Cancel | None) -> ScanResult:
    names = sorted(d.name for d in (root / "train").iterdir() if d.is_dir())
    if not names:
        raise DatasetUnusable(f"{root / 'train'} has no class folders")
    result = ScanResult(str(root), str(root), "folder", "classify", names)
    files = {s: sorted(f for f in (root / s).rglob("*") if f.is_file()) for s in SPLITS if (root / s).is_dir()}
    if "val" not in files and "test" in files:
        files["val"] = files.pop("test")  # ultralytics' check_cls_dataset falls back to test/ for validation
    if "val" not in files:
        raise DatasetUnusable(f"{root} has no val/ (or test/) folder")
    total, done = sum(len(v) for v in files.values()), 0
    for split, split_files in files.items():
        stats = result.splits[split] = SplitStats(instances={n: 0 for n in names})
        for f in split_files:
            _tick(progress, cancel, done, total, f.name)
            done += 1
            if f.suffix[1:].lower() not in IMG_FORMATS:
                result.add_problem(f, "not an image (ignored)", "warning")
                continue
            cls = f.relative_to(root / split).parts[0]
            if len(f.relative_to(root / split).parts) < 2:
                result.add_problem(f, "an image outside any class folder (ignored)", "warning")
                continue
            if cls not in names:
                result.add_problem(f, f"class folder {cls!r} is not among train/'s classes")
                continue
            stats.images += 1
            stats.labelled += 1
            if _check_image(f, result):
                stats.instances[cls] += 1
            if len(result.samples.setdefault(split, [])) < SAMPLES_PER_SPLIT:
                result.samples[split].append(str(f))
    result.size, result.size_counted = _size_on_disk(root, None, cancel)
    _tick(progress, None, total, total, "done")
    return result


# ------------------------------------------------------------------------------------------------------ shared
def _check_image(image: Path, result: ScanResult) -> bool:
    """Whether the image opens and decodes (PIL verify; a JPEG also decoded at 1/8 scale, which is cheap)."""
    from PIL import Image, UnidentifiedImageError

    if image.exists() and not image.is_file():  # PIL would block on a FIFO for ever
        result.add_problem(image, "not a regular file")
        return False
    try:
        with warnings.catch_warnings():  # PIL only warns from 89 M pixels, then decodes it (~0.5 GB): stop there
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(image) as im:
                im.verify()
            with Image.open(image) as im:
                if im.format == "JPEG":
                    im.draft("RGB", (max(1, im.width // 8), max(1, im.height // 8)))
                im.load()
                if min(im.size) < 2:
                    result.add_problem(image, f"image is only {im.width}×{im.height} pixels")
                    return False
        return True
    except FileNotFoundError:
        result.add_problem(image, "listed but not on disk")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, ImportError) as e:
        # ImportError: once ultralytics is imported, its patched Image.open reaches for pi-heif on an unknown format
        known = isinstance(e, (UnidentifiedImageError, ImportError))
        detail = "not a known image format" if known else str(e)[:80]
        result.add_problem(image, f"does not decode as an image ({detail})")
    except Image.DecompressionBombWarning:
        result.add_problem(image, "a very large image (over 89 M pixels): not decoded by the check", "warning")
        return True
    except Image.DecompressionBombError:
        result.add_problem(image, "image too large to decode safely")
    return False


def _size_on_disk(root: Path, yaml_path: Path | None, cancel: Cancel | None) -> tuple[int, bool]:
    """(bytes, all counted) of the files under ``root`` (links not followed), plus the YAML if it lies outside.

    Stops after :data:`MAX_FILES_SIZED` files (a `path: /` would walk the whole disk): the bytes are then a lower bound.
    """
    total, seen = 0, 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            seen += 1
            if seen % 4096 == 0:
                _tick(None, cancel, 0, 0, "")
            if seen > MAX_FILES_SIZED:
                return total, False
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    if yaml_path is not None and root not in yaml_path.parents:
        try:
            total += yaml_path.stat().st_size
        except OSError:
            pass
    return total, True


def _tick(progress: Progress | None, cancel: Cancel | None, done: int, total: int, what: str) -> None:
    if cancel is not None and cancel():
        raise ScanCancelled("the scan was cancelled")
    if progress is not None and (done % 16 == 0 or done == total):
        progress(done, total, what)
