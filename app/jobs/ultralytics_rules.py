"""ultralytics' own argument rules, read from its source files without importing it (that would load torch).

The type lists (``CFG_FLOAT_KEYS``…), ``TASKS``, ``MODES`` and ``QUANTIZE_ALIASES`` are literal assignments in
``ultralytics/cfg/__init__.py``; the valid keys and their defaults are ``cfg/default.yaml`` (``DEFAULT_CFG_DICT``).
:func:`check_cfg_value` applies ``check_cfg(hard=True)``'s rule to one key; ``tests/jobs/test_args_train.py``
compares both with the installed ultralytics, so an upgrade that changes them fails a test, not a job.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_LISTS = ("CFG_FLOAT_KEYS", "CFG_FRACTION_KEYS", "CFG_INT_KEYS", "CFG_INT_MIN", "CFG_BOOL_KEYS", "CFG_STR_KEYS",
          "TASKS", "MODES", "QUANTIZE_ALIASES")


@dataclass(frozen=True)
class UltralyticsRules:
    """What ``ultralytics.cfg`` checks, as plain data."""

    root: Path  # the ultralytics package folder
    defaults: dict[str, Any]  # DEFAULT_CFG_DICT
    float_keys: frozenset[str]
    fraction_keys: frozenset[str]
    int_keys: frozenset[str]
    int_min: dict[str, int]
    bool_keys: frozenset[str]
    str_keys: frozenset[str]
    tasks: tuple[str, ...]
    modes: tuple[str, ...]
    quantize_aliases: dict[str, Any]


def ultralytics_root() -> Path:
    """The installed ultralytics package folder (found, not imported)."""
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("ultralytics is not installed in this environment")
    return Path(list(spec.submodule_search_locations)[0])


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "frozenset":
        return frozenset(ast.literal_eval(node.args[0]))
    return ast.literal_eval(node)


@functools.cache
def rules() -> UltralyticsRules:
    """ultralytics' rules, read once per process (about 20 ms)."""
    import yaml

    root = ultralytics_root()
    found: dict[str, Any] = {}
    for node in ast.parse((root / "cfg" / "__init__.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in _LISTS:
                found[node.targets[0].id] = _literal(node.value)
    missing = [n for n in _LISTS if n not in found]
    if missing:
        raise RuntimeError(f"ultralytics/cfg/__init__.py no longer defines {', '.join(missing)}")
    raw = yaml.safe_load((root / "cfg" / "default.yaml").read_text(encoding="utf-8"))
    # ultralytics' YAML.load turns the string "none" into None the same way
    defaults = {k: None if isinstance(v, str) and v.lower() == "none" else v for k, v in raw.items()}
    return UltralyticsRules(root, defaults, found["CFG_FLOAT_KEYS"], found["CFG_FRACTION_KEYS"], found["CFG_INT_KEYS"],
                            dict(found["CFG_INT_MIN"]), found["CFG_BOOL_KEYS"], found["CFG_STR_KEYS"],
                            tuple(found["TASKS"]), tuple(found["MODES"]), dict(found["QUANTIZE_ALIASES"]))


def _number(v: Any) -> bool:
    return isinstance(v, (int, float))  # bool counts, as in ultralytics' FLOAT_OR_INT isinstance check


def check_cfg_value(key: str, value: Any) -> str | None:
    """Why ultralytics' ``check_cfg(hard=True)`` refuses ``key=value``; None when it accepts it."""
    r = rules()
    typed = r.float_keys | r.fraction_keys | r.int_keys | r.bool_keys | r.str_keys | {"scale", "compile"}
    if value is None:
        if key == "amp" or (r.defaults.get(key) is not None and key in typed and key != "auto_augment"):
            return "must not be None"
        return None
    if key in r.float_keys:
        return None if _number(value) else f"must be a number, not {value!r}"
    if key == "scale":
        if isinstance(value, (list, tuple)):
            ok = len(value) == 2 and all(isinstance(x, (int, float)) for x in value)
            return None if ok else "must be a number in [0, 1] or a pair of numbers"
        if not _number(value):
            return f"must be a number, not {value!r}"
        return None if 0.0 <= value <= 1.0 else "must be between 0.0 and 1.0"
    if key in r.fraction_keys:
        if key == "fraction" and isinstance(value, list):
            ok = (len(value) in (2, 3) and all(value[:2])
                  and all((type(x) is int and x >= 0) or (type(x) is float and 0.0 <= x <= 1.0) for x in value))
            return None if ok else "must be [train, val] or [train, val, test] counts or ratios"
        if key == "fraction" and isinstance(value, bool):
            return "must be a number, not a boolean"
        if not _number(value):
            return f"must be a number, not {value!r}"
        if key == "fraction":
            return None if 0.0 < value <= 1.0 or (isinstance(value, int) and value > 1) else "must be in (0, 1]"
        return None if 0.0 <= value <= 1.0 else "must be between 0.0 and 1.0"
    if key in r.int_keys:
        if not isinstance(value, int) and not (isinstance(value, float) and value.is_integer()):
            return f"must be a whole number, not {value!r}"
        if key in r.int_min and int(value) < r.int_min[key]:
            return f"must be at least {r.int_min[key]}"
        return None
    if key in r.bool_keys:
        return None if isinstance(value, bool) else f"must be true or false, not {value!r}"
    if key in r.str_keys:
        return None if isinstance(value, str) else f"must be text, not {value!r}"
    if key == "compile":
        return None if isinstance(value, (bool, str)) else "must be true, false or a torch.compile mode"
    if key == "amp":
        ok = isinstance(value, bool) or str(value).lower() in {"fp16", "bf16", "fp32"}
        return None if ok else "must be true, false, fp16, bf16 or fp32"
    if key == "quantize" and str(value).lower() not in r.quantize_aliases:
        return f"must be one of {', '.join(map(str, r.quantize_aliases))}"
    return None


def shipped_model_yaml(name: str) -> Path | None:
    """The YAML ultralytics builds ``name`` from (``yolo26n-seg.yaml`` → ``cfg/models/26/yolo26-seg.yaml``), or None.

    The scale letter is dropped as ``yaml_model_load`` drops it; only ``cfg/models`` counts (not data set YAMLs).
    """
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.-]+\.ya?ml", name):  # a bare file name, never a glob pattern or a path
        return None
    if ("yolov3" in name or "yolov5" in name) and "u.yaml" in name:
        name = name.replace("u.yaml", ".yaml")  # check_yolov5u_filename: yolov5nu.yaml is yolov5n.yaml
    models = ultralytics_root() / "cfg" / "models"
    stem = Path(name).stem
    if re.fullmatch(r"yolov[58][nsmlx]6", stem):  # ultralytics renames the old P6 names (yolov8n6 → yolov8n-p6)
        stem = re.sub(r"(\d+)([nslmx])6(.+)?$", r"\1\2-p6\3", stem)
    for candidate in (stem, re.sub(r"(\d+)([nslmx])(.+)?$", r"\1\3", stem)):
        hits = sorted(models.rglob(f"{candidate}{Path(name).suffix}"))
        if hits:
            return hits[0]
    return None
