"""What the Compare page shows, read in one go on the library thread (Qt-free, plain data).

``app.validation.compare.compare_models`` gives the figures side by side and which model is best at each; this adds
what only the page draws: each model's mean PR and F1 curves (from its newest validation's capture) and the
backends it was exported to, so the speed table can say "not measured" where no figure exists.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CURVES = ("Precision-Recall(B)", "F1-Confidence(B)")


def mean_curves(capture: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The all-classes mean of each of CURVES a capture holds: name → {x, y, xlabel, ylabel}."""
    out = {}
    for name in CURVES:
        curve = (capture.get("curves") or {}).get(name)
        if not curve or not curve.get("y"):
            continue
        y = np.mean([np.asarray(v, dtype=float) for v in curve["y"].values()], axis=0)
        out[name] = {"x": list(curve["x"]), "y": y.tolist(), "xlabel": curve.get("xlabel", ""),
                     "ylabel": curve.get("ylabel", "")}
    return out


def load_comparison(lib: Any, model_ids: list[str]) -> dict[str, Any]:  # noqa: ANN401 (Library)
    """``compare_models`` plus ``rows`` (``compare_rows``: every figure, named for people) and, per model id,
    ``curves`` (mean PR / F1), ``exports`` (completed formats) and ``curve_problem`` (why its curves are missing,
    one line, or None)."""
    from app.exporters.store import ExportStore
    from app.validation.compare import compare_models
    from app.validation.compare_rows import compare_rows
    from app.validation.store import ValidationError, get_validation, load_capture

    result = compare_models(lib, model_ids)
    exports = ExportStore(lib)
    extra: dict[str, dict[str, Any]] = {}
    for entry in result["models"]:
        curves: dict[str, Any] = {}
        problem = None
        if entry["validation"] is None:
            problem = "not validated"
        else:
            try:
                curves = mean_curves(load_capture(get_validation(lib, entry["validation"]["id"])))
            except ValidationError as e:  # a damaged capture loses its curves, not the page
                problem = str(e)
        formats = sorted({e.format for e in exports.for_model(entry["id"]) if e.status == "Completed"})
        extra[entry["id"]] = {"curves": curves, "exports": formats, "curve_problem": problem}
    result["extra"] = extra
    result["rows"] = compare_rows(result, {m["id"]: lib.find_model(m["id"]).size for m in result["models"]})
    return result
