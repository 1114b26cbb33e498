"""The first jump far into a video seeks by the frame's time from the container's packets and
lands on the frame streaming gives; decoders that disagree fall back to decoding; a long
decode can be cancelled. Real files from ../shared/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posetool.io.video_index import ReadCancelled, packet_times_ms
from posetool.io.video_io import VideoReader
from tests.required import missing_input


def _video(shared_data: Path, name: str) -> Path:
    path = shared_data / "videos" / name
    if not path.is_file():
        missing_input(f"{path} is absent")
    return path


def _stream(path: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    kept = {}
    with VideoReader(path) as reader:
        for i, _, frame in reader:
            if i in wanted:
                kept[i] = frame
            if i >= max(wanted):
                return kept
    return kept


@pytest.mark.parametrize(
    ("name", "far", "fast"),
    [
        ("dancer_mgt.avi", 1500, True),  # an AVI dropped-frame entry before the target
        ("squat_lsp.mp4", 64, True),  # B-frames: packets arrive out of display order
        ("ntu_single_person.avi", 70, False),  # decoder times 67 ms off the packets'
    ],
)
def test_first_far_jump_lands_on_the_streamed_frame(shared_data, name, far, fast):
    path = _video(shared_data, name)
    kept = _stream(path, {far, far - 1, 3})
    looks = []

    def should_stop() -> bool:
        looks.append(1)
        return False

    with VideoReader(path) as reader:  # fresh: nothing streamed, no seek table
        assert np.array_equal(reader.read_frame(far, should_stop), kept[far])
        assert (len(looks) < 3) == fast  # decoding 0..far looks every 8 frames
        assert np.array_equal(reader.read_frame(far - 1), kept[far - 1])
        assert np.array_equal(reader.read_frame(3), kept[3])


def test_packet_times_match_decoder_times(shared_data):
    path = _video(shared_data, "dancer_mgt.avi")
    with VideoReader(path) as reader:
        decoded = [t for _, t, _ in reader]
    times = packet_times_ms(path)
    assert len(times) == len(decoded) == 1571  # the dropped entry has no packet either
    np.testing.assert_allclose((times - times[0]) / 1000, decoded, atol=1e-6)


def test_long_decode_is_cancelled_and_the_reader_goes_on(shared_data):
    path = _video(shared_data, "ntu_single_person.avi")  # no packet seek: decodes forward
    kept = _stream(path, {20})
    with VideoReader(path) as reader:
        with pytest.raises(ReadCancelled):
            reader.read_frame(20, should_stop=lambda: True)
        assert np.array_equal(reader.read_frame(20), kept[20])
