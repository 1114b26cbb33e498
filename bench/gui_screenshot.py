"""Render the viewer's main window offscreen on a real frame with its poses, to PNG.

Default: PoseTrack 2018 val 012834_mpii_test frame 0 (1920x1080, 11 persons) with its GT JSON.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui_screenshot.py -o docs/viewer.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("POSETOOL_SHARED_DATA", ROOT.parent / "shared" / "data"))
SEQ = "012834_mpii_test"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--video", type=Path, default=DATA / "posetrack18_sample" / "images" / "val" / SEQ
    )
    parser.add_argument(
        "--poses",
        type=Path,
        default=DATA / "posetrack18_sample" / "annotations" / "val" / f"{SEQ}.json",
    )
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "docs" / "viewer.png")
    parser.add_argument("--select", type=int, default=None, help="track id to select")
    parser.add_argument("--joint", type=int, default=None, help="joint of it to select")
    parser.add_argument("--size", default="1600x900")
    parser.add_argument("--help-overlay", action="store_true", help="show the shortcut overlay")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from posetool.gui.app import create_application

    app = create_application()
    from PySide6.QtCore import QSettings

    from posetool.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "viewer.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, confirm_unsaved=lambda _w: "discard")
        width, height = (int(v) for v in args.size.split("x"))
        window.resize(width, height)
        window.show()
        window.open_input(args.video, args.poses)
        session = window.session
        got = []
        window.source.frameReady.connect(lambda i, _img: got.append(i))
        deadline = time.monotonic() + 20
        while not got and window.source.cached(session.frame) is None:
            app.processEvents()
            if time.monotonic() > deadline:
                print("no frame decoded in 20 s", file=sys.stderr)
                return 1
            time.sleep(0.01)
        app.processEvents()
        track = args.select if args.select is not None else int(session.record.track_ids[0])
        session.select(track, args.joint)
        if args.help_overlay:
            window.help.toggle()
        app.processEvents()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(args.out))
        print(
            f"wrote {args.out} ({width}x{height}), {session.record.num_persons} persons, "
            f"selected track {track}"
        )
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
