"""Text renderings of an evaluation: the paper's table layout, JSON and Markdown."""

from __future__ import annotations

import json

from diffpose.evaluation.evaluate import EvaluationResult

_AP_HEAD = ("Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Mean")


def _row(cols: dict[str, float]) -> list[str]:
    names = [*_AP_HEAD[:-1], "Total"]
    return [f"{cols[n]:.1f}" for n in names]


def format_result(result: EvaluationResult, fmt: str = "table") -> str:
    """Render ``result`` as ``table`` (fixed width), ``markdown`` or ``json``."""
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2, allow_nan=True)
    rows = [("mAP", _row(result.ap_columns()))]
    mota = result.mota_columns()
    if mota is not None:
        rows.append(("MOTA", _row(mota)))
    if fmt == "markdown":
        lines = ["| Metric | " + " | ".join(_AP_HEAD) + " |", "|---" * (len(_AP_HEAD) + 1) + "|"]
        lines += [f"| {name} | " + " | ".join(vals) + " |" for name, vals in rows]
        return "\n".join(lines)
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; use table, json or markdown")
    width = 9
    lines = ["Metric".ljust(6) + "".join(h.rjust(width) for h in _AP_HEAD)]
    lines += [name.ljust(6) + "".join(v.rjust(width) for v in vals) for name, vals in rows]
    lines.append(f"({result.num_sequences} sequences, {result.num_frames} evaluated frames)")
    return "\n".join(lines)
