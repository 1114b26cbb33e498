"""Where a batch run writes: one distinct, stable output name per input, never an input's path.

For an input named ``NAME`` the output folder gets ``NAME.json`` (PoseTrack),
``NAME.overlay.mp4`` (with render) and ``NAME.summary.json``; the run itself writes
``run_summary.json`` and ``config.yaml``. Names are the file stem (the folder name of an
image folder). Inputs sharing a stem are told apart by their suffix (``seq`` and ``seq_mp4``
for a PoseTrack image folder and the video inside it), then by their parent folders
(``day1_cam1``, ``day2_cam1``); a name whose files would be another input's or the run's
(``run_summary``) gets ``_2``, ``_3``... Names depend only on the inputs, so a second run
over the same inputs finds the first one's outputs (``--resume``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from posetool.io.inputs import OVERLAY_SUFFIX

__all__ = [
    "RUN_FILES",
    "OutputConflictError",
    "check_no_input_overwritten",
    "output_names",
    "output_paths",
]

#: Files written once per run, beside the per-input outputs.
RUN_FILES = ("run_summary.json", "config.yaml")


class OutputConflictError(ValueError):
    """An output path that is an input of the run; names both."""


def output_paths(out_dir: Path, name: str) -> dict[str, Path]:
    """The files of output ``name``: ``json``, ``video`` (the overlay) and ``summary``."""
    return {
        "json": out_dir / f"{name}.json",
        "video": out_dir / f"{name}{OVERLAY_SUFFIX}",
        "summary": out_dir / f"{name}.summary.json",
    }


def _base(path: Path) -> str:
    return path.name if path.is_dir() else path.stem


def _suffix(path: Path) -> str:
    return "" if path.is_dir() else path.suffix.lstrip(".").lower()


def _by_parents(paths: Sequence[Path], names: list[str]) -> list[str]:
    """``names`` prefixed with as many parent folders as tell ``paths`` apart."""
    parents = [p.resolve().parent.parts for p in paths]
    for depth in range(1, max(len(p) for p in parents) + 1):
        named = [
            "_".join((*p[-depth:], n)).lstrip("/\\") for p, n in zip(parents, names, strict=True)
        ]
        if len({n.lower() for n in named}) == len(named):
            return named
    return names


def _file_names(name: str) -> list[str]:
    return [p.name.lower() for p in output_paths(Path(), name).values()]


def output_names(inputs: Sequence[Path]) -> list[str]:
    """Distinct output names, deterministic for the inputs (see the module docstring)."""
    names = [_base(p) for p in inputs]
    groups: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(names):
        groups[name.lower()].append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        if len({_suffix(inputs[i]) for i in members}) > 1:  # a folder keeps the bare name
            for i in (i for i in members if _suffix(inputs[i])):
                names[i] = f"{names[i]}_{_suffix(inputs[i])}"
        same: dict[str, list[int]] = defaultdict(list)
        for i in members:
            same[names[i].lower()].append(i)
        for clash in (m for m in same.values() if len(m) > 1):
            renamed = _by_parents([inputs[i] for i in clash], [names[i] for i in clash])
            for i, name in zip(clash, renamed, strict=True):
                names[i] = name
    taken = {f.lower() for f in RUN_FILES}
    unique = []
    for name in names:
        base, k = name, 2
        while any(f in taken for f in _file_names(name)):
            name, k = f"{base}_{k}", k + 1
        taken.update(_file_names(name))
        unique.append(name)
    return unique


def check_no_input_overwritten(inputs: Sequence[Path], out_dir: Path, names: Sequence[str]) -> None:
    """Refuse a run one of whose output files resolves to one of its inputs (symlinks
    followed), before anything is written.

    Raises:
        OutputConflictError: Names the output and the input.
    """
    real_inputs = {p.resolve(): p for p in inputs}
    planned = [out_dir / f for f in RUN_FILES]
    for name in names:
        planned += output_paths(out_dir, name).values()
    for path in planned:
        hit = real_inputs.get(path.resolve())
        if hit is not None:
            raise OutputConflictError(
                f"output '{path}' would overwrite the input '{hit}'; "
                "choose another output folder (-o)"
            )
