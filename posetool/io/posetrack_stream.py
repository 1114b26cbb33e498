"""PoseTrack JSON written frame by frame, so memory does not grow with the video's length.

The file appears only once complete (temporary file in the same folder, fsync, rename), with
the mode a plain ``open()`` gives. PoseTrack 2018/2021 keep images and annotations in two
lists: annotations stream into the file, images into a second temporary file appended at the
end (JSON key order is free), each image getting ``nframes`` once the count is known. 2017
annolist entries stream in place. Each frame goes through the same converters as a whole
video (:mod:`diffpose.posetrack_writer`), so both give the same JSON objects.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO

from diffpose.posetrack_format import PoseTrackVideo
from diffpose.posetrack_writer import to_posetrack17, to_posetrack18
from posetool.records import FrameRecord

__all__ = ["PoseTrackStreamWriter"]


def _temp_text(path: Path, tag: str) -> tuple[IO[str], Path]:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".{tag}.tmp", dir=path.parent)
    return os.fdopen(fd, "w", encoding="utf-8"), Path(name)


class PoseTrackStreamWriter:
    """Write one video's PoseTrack JSON record by record (frames 0, 1, 2... in order).

    Use as a context manager; :meth:`commit` puts the complete file in place, leaving the
    block without it (or with an error) removes the temporary files.

    Args:
        path: The JSON file to write.
        sequence_name: The video's sequence name (image ids, file names).
        fmt: "2018", "2021" or "2017".
        provenance: Stored under the top-level key ``posetool`` when given.
    """

    def __init__(
        self,
        path: str | Path,
        sequence_name: str,
        fmt: str = "2018",
        provenance: dict | None = None,
    ) -> None:
        from diffpose.posetrack_format import vid_id_for
        from posetool.io.posetrack_io import record_to_posetrack_frame

        if fmt not in ("2017", "2018", "2021"):
            raise ValueError(f"fmt must be '2017', '2018' or '2021', got {fmt!r}")
        self.path = Path(path)
        self.sequence_name = sequence_name
        self.fmt = fmt
        self.provenance = provenance
        self.frames = 0
        self._convert = record_to_posetrack_frame
        self._vid_id = vid_id_for(sequence_name)
        self._main, self._main_path = _temp_text(self.path, "json")
        self._main.write('{"annolist": [' if fmt == "2017" else '{"annotations": [')
        self._images = self._images_path = None
        if fmt != "2017":
            self._images, self._images_path = _temp_text(self.path, "images")
        self._items = 0  # annotations or annolist entries written

    def __enter__(self) -> PoseTrackStreamWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._discard()

    def add(self, record: FrameRecord) -> None:
        """Append the next frame (``record.frame_index`` must be the count so far)."""
        if record.frame_index != self.frames:
            raise ValueError(
                f"{self.path}: frame {record.frame_index} given, frame {self.frames} expected next"
            )
        frame = self._convert(record, self.sequence_name)
        video = PoseTrackVideo(
            source=str(self.path), fmt=self.fmt, vid_id=self._vid_id, frames=(frame,)
        )
        if self.fmt == "2017":
            entry = to_posetrack17(video)["annolist"][0]
            entry["imgnum"] = [record.frame_index + 1]
            self._write_items([entry])
        else:
            data = to_posetrack18(video, self.fmt)
            self._write_items(data["annotations"])
            image = data["images"][0]
            del image["nframes"]  # known at the end
            self._images.write(json.dumps(image, allow_nan=False) + "\n")
        self.frames += 1

    def _write_items(self, items: list[dict]) -> None:
        for item in items:
            self._main.write(("," if self._items else "") + json.dumps(item, allow_nan=False))
            self._items += 1

    def commit(self) -> Path:
        """Finish the JSON, flush it to disk and rename it into place."""
        from posetool.io.posetrack_io import give_plain_file_mode

        main = self._main
        if self.fmt != "2017":
            main.write('], "images": [')
            self._images.close()
            with open(self._images_path, encoding="utf-8") as images:
                for i, line in enumerate(images):
                    main.write(("," if i else "") + f'{{"nframes": {self.frames}, ' + line[1:-1])
            categories = to_posetrack18(PoseTrackVideo("", self.fmt, "", ()), self.fmt)
            main.write('], "categories": ' + json.dumps(categories["categories"]))
        else:
            main.write("]")
        if self.provenance is not None:
            main.write(', "posetool": ' + json.dumps(self.provenance, allow_nan=False))
        main.write("}")
        main.flush()
        os.fsync(main.fileno())
        main.close()
        give_plain_file_mode(self._main_path)
        os.replace(self._main_path, self.path)
        self._discard()
        return self.path

    def _discard(self) -> None:
        for handle, path in ((self._main, self._main_path), (self._images, self._images_path)):
            if handle is not None:
                handle.close()
            if path is not None:
                path.unlink(missing_ok=True)
        self._main = self._images = self._main_path = self._images_path = None
