"""Checkpoint fields that ultralytics acts on after a *safe* load: what they would fetch or run.

Read from ultralytics 8.4: ``load_checkpoint`` attaches ``ckpt["train_args"]`` to the model and ``Model._load`` keeps
its ``data`` (with imgsz, task, single_cls) as an override. ``model.val()`` without ``data=`` uses it when
``check_data_portable`` says it resolves, and a URL always does: ``check_det_dataset`` downloads the YAML and
``exec``s its ``download:`` (measured: a marker file after ``ULTRALYTICS_SAFE_LOAD=1`` + ``YOLO(path).val()``). An
INT8 export without ``data=`` calibrates on it the same way. So a ``data`` that is a URL, or a data set on this
machine whose YAML ultralytics would execute or fetch (``remote_agent.data_check``), refuses the checkpoint; a bare
name (``coco.yaml``: ultralytics' own data set, downloaded by its own script) is only reported.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from remote_agent.checkpoint_scan import CheckpointError
from remote_agent.safe_pickle import InertObject

_MAX_STRINGS = 1_000  # strings looked at inside a dict/list ``data`` (YOLOE's multi-source training sets)
_MAX_YAML_BYTES = 4 << 20  # a data.yaml is a few kB
_MAX_TOP_YAMLS = 50  # a folder given as data: its top-level YAMLs are read, never a walk of the tree


def _args_dicts(ckpt: Any) -> list[dict[Any, Any]]:
    """The argument dicts a checkpoint keeps: ``train_args`` and each model's ``args`` (a dict or a namespace)."""
    found: list[Any] = []
    if isinstance(ckpt, dict):
        found.append(ckpt.get("train_args"))
        found += [m.attrs.get("args") for m in (ckpt.get("model"), ckpt.get("ema")) if isinstance(m, InertObject)]
    elif isinstance(ckpt, InertObject):
        found.append(ckpt.attrs.get("args"))
    out = []
    for a in found:
        a = a.attrs if isinstance(a, InertObject) else a  # IterableSimpleNamespace / argparse.Namespace
        if isinstance(a, dict):
            out.append(a)
    return out


def _strings(value: Any) -> list[str]:
    out: list[str] = []
    stack = [value]
    while stack and len(out) < _MAX_STRINGS:
        v = stack.pop()
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list | tuple):
            stack.extend(v)
    return out


def _refuse(why: str) -> CheckpointError:
    return CheckpointError("executable_code", f"contains executable code, refused: its training arguments {why}")


def _local_data_reason(text: str) -> str | None:
    """Why the data set at ``text`` on this machine would make ultralytics run or fetch something; None if not."""
    from remote_agent.data_check import is_archive, yaml_reason

    try:
        st = os.stat(text)
    except (OSError, ValueError):
        return None  # not on this machine: ultralytics falls back to its task default
    if stat.S_ISREG(st.st_mode):
        path = Path(text)
        if st.st_size <= _MAX_YAML_BYTES:
            return yaml_reason(path)  # an archive, or a YAML with download: / URLs
        return yaml_reason(path) if is_archive(path) else None  # too big to be a data.yaml: only an archive matters
    if stat.S_ISDIR(st.st_mode):
        yamls: list[Path] = []
        try:
            with os.scandir(text) as entries:
                for e in entries:
                    if e.name.lower().endswith((".yaml", ".yml")) and e.is_file(follow_symlinks=False):
                        yamls.append(Path(e.path))
                        if len(yamls) >= _MAX_TOP_YAMLS:
                            break
        except OSError:
            return None
        return next((why for why in map(yaml_reason, yamls) if why), None)
    return f"name a data set that is not a file or folder ({text[:120]!r}): reading it could block"


def check_checkpoint_fields(ckpt: Any) -> list[str]:
    """Refuse a checkpoint whose kept arguments make ultralytics fetch or run something; return warnings to show."""
    warnings: list[str] = []
    for args in _args_dicts(ckpt):
        data = args.get("data")
        if data is None or data == "":
            continue
        for text in _strings(data):
            if "://" in text or text.lower().startswith(("http:", "https:", "ftp:", "gs:", "ul:")):
                raise _refuse(f"name a data set at a URL ({text[:120]!r}): ultralytics would download it and run "
                              "its `download:` script when validating or exporting without data=")
        if isinstance(data, str):
            why = _local_data_reason(data)
            if why:
                raise _refuse(f"name a data set that ultralytics would run or fetch: {why}")
            if not any(sep in data for sep in "/\\") and not os.path.exists(data):
                warnings.append(f"trained on {data!r}: validating it without data= would make ultralytics "
                                "download that data set")
    if isinstance(ckpt, dict) and ckpt.get("modelopt"):
        warnings.append("a quantization-aware (QAT) checkpoint: loading it needs NVIDIA modelopt, which ultralytics "
                        "would try to install")
    return list(dict.fromkeys(warnings))
