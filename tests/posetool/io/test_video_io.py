"""VideoReader (posetool.io.video_io) and discover_inputs (posetool.io.inputs) on real files from
../shared/data."""

from __future__ import annotations

import logging
import shutil
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from posetool.io.inputs import discover_inputs, image_files, images_are_photos
from posetool.io.video_io import DecodeReport, VideoOpenError, VideoProbe, VideoReader
from tests.required import missing_input


def _video(shared_data: Path, name: str) -> Path:
    path = shared_data / "videos" / name
    if not path.is_file():
        missing_input(f"{path} is absent")
    return path


def _count(path: Path) -> tuple[int, list[float], DecodeReport]:
    with VideoReader(path) as reader:
        stamps = [t for _, t, _ in reader]
        return len(stamps), stamps, reader.report


def test_avi_counts_and_reports_dropped_index_entry(shared_data: Path) -> None:
    n, stamps, report = _count(_video(shared_data, "dancer_mgt.avi"))
    assert n == 1571
    # The AVI index announces 1572: one dropped-frame entry, seen as an 80 ms gap at frame 1.
    assert report.expected_frames == 1572 and report.missing_frames == 1 and not report.complete
    assert stamps[1] == pytest.approx(0.08) and stamps[2] == pytest.approx(0.12)
    assert np.all(np.diff(stamps) > 0)


def test_portrait_mp4_has_no_rotation(shared_data: Path) -> None:
    path = _video(shared_data, "squat_lsp.mp4")
    with VideoReader(path) as reader:
        assert reader.probe == VideoProbe(path, "video", 30.0, 65, 720, 1280, 0)
        frames = list(reader)
        assert frames[0].frame_bgr.shape == (1280, 720, 3)  # stored portrait, not rotated
        assert reader.report.complete and len(frames) == 65


def test_broken_decoder_timestamps_fall_back_and_stay_monotonic(shared_data: Path) -> None:
    # H.264 in AVI: decoder timestamps start at 66.7 ms and the 2 flushed frames report 0.
    n, stamps, report = _count(_video(shared_data, "ntu_single_person.avi"))
    assert n == 103 and report.complete and report.timestamp_fallbacks == 2
    assert stamps[0] == 0.0 and np.all(np.diff(stamps) > 0)
    assert stamps[-1] == pytest.approx(102 / 30)


def test_variable_gap_kept_from_decoder(shared_data: Path) -> None:
    _, stamps, _ = _count(_video(shared_data, "two_people_indoor_mmaction2.mp4"))
    gaps = np.diff(stamps)
    assert gaps.max() == pytest.approx(0.2, abs=1e-3)  # a real 200 ms gap, not 1/fps
    assert np.all(gaps > 0)


@pytest.mark.parametrize("name", ["dancer_mgt.avi", "ntu_single_person.avi", "squat_lsp.mp4"])
def test_seek_matches_sequential_read(shared_data: Path, name: str) -> None:
    path = _video(shared_data, name)
    wanted = {0, 1, 3, 37, 50, 64, 101, 102, 786, 1570}
    with VideoReader(path) as reader:
        kept = {i: frame for i, _, frame in reader if i in wanted}
        for index in sorted(kept, reverse=True) + sorted(kept):
            assert np.array_equal(reader.read_frame(index), kept[index]), index
        with pytest.raises(IndexError):
            reader.read_frame(reader.report.decoded_frames)


def test_seek_before_streaming(shared_data: Path) -> None:
    path = _video(shared_data, "squat_lsp.mp4")
    with VideoReader(path) as seeker, VideoReader(path) as streamer:
        sequential = [frame for _, _, frame in streamer]
        for index in (40, 5, 64):
            assert np.array_equal(seeker.read_frame(index), sequential[index])


def test_image_folder(posetrack_sample: Path) -> None:
    folder = posetrack_sample / "videos" / "000001_mpiinew_test"
    with VideoReader(folder, image_fps=25.0) as reader:
        frames = list(reader)
        assert reader.probe.kind == "images" and reader.probe.frame_count == 10
        assert [f.frame_index for f in frames] == list(range(10))
        assert frames[4].timestamp_s == pytest.approx(4 / 25)
        assert np.array_equal(reader.read_frame(4), frames[4].frame_bgr)
        assert reader.report.complete


def test_broken_image_is_counted_and_index_kept(posetrack_sample: Path, tmp_path: Path) -> None:
    source = posetrack_sample / "videos" / "000001_mpiinew_test"
    for image in sorted(source.glob("*.jpg"))[:3]:
        shutil.copy(image, tmp_path / image.name)
    (tmp_path / "000001.jpg").write_bytes(b"not a jpeg")
    with VideoReader(tmp_path) as reader:
        assert [f.frame_index for f in reader] == [0, 2]
        assert reader.report.failed_frames == 1 and not reader.report.complete


def test_truncated_mp4_is_reported(shared_data: Path, tmp_path: Path) -> None:
    data = _video(shared_data, "crosswalk_crowd.mp4").read_bytes()
    cut = tmp_path / "half.mp4"
    cut.write_bytes(data[: len(data) // 2])
    try:
        reader = VideoReader(cut)
    except VideoOpenError as error:  # moov atom at the end: nothing to open
        assert error.path == cut and "half.mp4" in str(error)
        return
    with reader:
        decoded = sum(1 for _ in reader)
        assert reader.report.expected_frames == 686 and decoded < 686
        assert reader.report.missing_frames == 686 - decoded and not reader.report.complete


def test_text_file_named_mp4(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 100)
    with pytest.raises(VideoOpenError, match="notes.mp4") as info:
        VideoReader(fake)
    assert info.value.path == fake


def test_missing_and_empty(tmp_path: Path) -> None:
    with pytest.raises(VideoOpenError, match="no such file"):
        VideoReader(tmp_path / "gone.mp4")
    with pytest.raises(VideoOpenError, match="holds no"):
        VideoReader(tmp_path)


def test_non_ascii_path(shared_data: Path, tmp_path: Path) -> None:
    target = tmp_path / "vidéo_ü" / "vidéo_ü.mp4"
    target.parent.mkdir()
    shutil.copy(_video(shared_data, "street_mmpose_demo.mp4"), target)
    n, _, report = _count(target)
    assert n == 5 and report.complete
    assert discover_inputs([tmp_path]) == [target]


def _write_rotated_mp4(path: Path) -> np.ndarray:
    """A real mp4 whose track matrix says 'display rotated 90 deg clockwise' (as phones
    write it); returns the stored (unrotated) frame."""
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:8, :8] = (0, 0, 255)  # red top-left marker
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for _ in range(4):
        writer.write(frame)
    writer.release()
    data = bytearray(path.read_bytes())
    tkhd = data.find(b"tkhd")
    assert tkhd > 0 and data[tkhd + 4] == 0  # version 0 track header
    matrix = tkhd + 4 + 4 + 20 + 8 + 8  # after version/flags, times/ids, reserved, layer..volume
    data[matrix : matrix + 36] = struct.pack(">9i", 0, 1 << 16, 0, -(1 << 16), 0, 0, 0, 0, 1 << 30)
    path.write_bytes(bytes(data))
    return frame


def test_rotation_metadata_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "rot90.mp4"
    stored = _write_rotated_mp4(path)
    with VideoReader(path) as reader:
        assert (reader.probe.rotation_deg, reader.probe.width, reader.probe.height) == (90, 48, 64)
        frame = next(iter(reader)).frame_bgr
        assert frame.shape == (64, 48, 3)
        expected = cv2.rotate(stored, cv2.ROTATE_90_CLOCKWISE)
        assert np.abs(frame.astype(int) - expected).mean() < 8  # mp4v is lossy
        assert frame[:8, -8:, 2].mean() > 200  # the marker moved to the top-right
        assert np.array_equal(reader.read_frame(0), frame)


def test_discover_inputs(shared_data: Path, tmp_path: Path) -> None:
    (tmp_path / "clips" / "seq").mkdir(parents=True)
    shutil.copy(_video(shared_data, "street_mmpose_demo.mp4"), tmp_path / "clips" / "a.mp4")
    (tmp_path / "clips" / "readme.txt").write_text("x")
    (tmp_path / "clips" / ".hidden.mp4").write_bytes(b"")
    (tmp_path / "clips" / "seq" / "000000.jpg").write_bytes(b"")
    expected = [tmp_path / "clips" / "a.mp4", tmp_path / "clips" / "seq"]
    assert discover_inputs([tmp_path]) == expected
    assert (
        discover_inputs([str(tmp_path / "**" / "*.mp4"), tmp_path / "clips" / "a.mp4"])
        == expected[:1]
    )
    with pytest.raises(FileNotFoundError):
        discover_inputs([tmp_path / "nope" / "*.mp4"])
    with pytest.raises(FileNotFoundError):
        discover_inputs([tmp_path / "absent.mp4"])


def _images(folder: Path, sizes: list[tuple[int, int]]) -> list[Path]:
    folder.mkdir()
    paths = []
    for i, (w, h) in enumerate(sizes):
        paths.append(folder / f"{i:06d}.jpg")
        cv2.imwrite(str(paths[-1]), np.full((h, w, 3), 90, np.uint8))
    return paths


def test_image_folders_of_photos_are_one_input_per_photo(tmp_path: Path, caplog) -> None:
    """A folder where no image size holds half of its images is photos, each image an input
    (logged); a video's frames, even with an odd image among them (named in a warning), stay
    one input; the run may say which; a glob ending in an image suffix names photos."""
    photos = _images(tmp_path / "photos", [(64, 48), (48, 64), (80, 40)])
    frames = _images(tmp_path / "frames", [(64, 48)] * 3 + [(32, 32)])
    with caplog.at_level(logging.WARNING, logger="posetool.io.inputs"):
        assert discover_inputs([tmp_path / "photos"]) == photos
        assert "not one video's frames" in caplog.text
        caplog.clear()
        assert discover_inputs([tmp_path / "frames"]) == [tmp_path / "frames"]
        assert "000003.jpg (32x32)" in caplog.text and "--stills" in caplog.text
    assert discover_inputs([tmp_path / "frames"], stills=True) == frames
    assert discover_inputs([tmp_path / "photos"], stills=False) == [tmp_path / "photos"]
    assert discover_inputs([str(tmp_path / "photos" / "*.jpg")]) == photos
    assert discover_inputs([str(tmp_path / "photos" / "*")]) == []  # not named as images
    assert images_are_photos(tmp_path, [tmp_path / "absent.jpg"]) is False


def test_photos_of_one_size_are_told_from_frames_by_their_content(
    shared_data: Path, tmp_path: Path, caplog
) -> None:
    """COCO photos brought to one size (as many COCO photos are 640x480) are photos; a
    PoseTrack frame folder, a real video's frames saved every 2 s and near-black noisy frames
    stay a video."""
    from posetool.io.frame_likeness import neighbours_look_alike, thumbnail_difference
    from tests.posetool.frames import same_size_photos

    same = same_size_photos(shared_data, tmp_path / "same_size", 8, (640, 480))
    with caplog.at_level(logging.WARNING, logger="posetool.io.inputs"):
        assert len(discover_inputs([same])) == 8
        assert "do not look alike" in caplog.text
    frames = shared_data / "posetrack18_sample" / "videos" / "000001_mpiinew_test"
    video = shared_data / "videos" / "armwrestling_mmaction2.mp4"
    for needed in (frames, video):
        if not needed.exists():
            missing_input(f"{needed} is absent")
    assert not images_are_photos(frames, image_files(frames))
    sparse = tmp_path / "every_2_s"  # a hand-held video's frames saved every 2 s
    sparse.mkdir()
    cap = cv2.VideoCapture(str(video))
    for k in range(240):
        ok, frame = cap.read()
        assert ok
        if k % 60 == 0:
            cv2.imwrite(str(sparse / f"{k:06d}.jpg"), frame)
    assert discover_inputs([sparse]) == [sparse]
    dark = tmp_path / "dark"  # near-black noisy frames: not stretched into unlike pictures
    dark.mkdir()
    rng = np.random.default_rng(0)
    for k in range(6):
        noise = rng.normal(12, 3, (360, 640, 3)).clip(0, 255).astype(np.uint8)
        cv2.imwrite(str(dark / f"{k:06d}.jpg"), noise)
    assert discover_inputs([dark]) == [dark]
    # nothing to compare: the folder stays a video, as before
    assert neighbours_look_alike([same / "absent.jpg", same / "gone.jpg"])
    assert thumbnail_difference(same / "absent.jpg", next(same.glob("*.jpg"))) is None


def test_a_photo_is_decoded_upright_as_one_frame(tmp_path: Path) -> None:
    """A photo input reads as an image (EXIF rotation applied, as in an image folder), not
    through FFmpeg, which ignores it; its probe announces one frame at the images' rate."""
    ok, jpeg = cv2.imencode(".jpg", np.full((30, 70, 3), 128, np.uint8))
    assert ok
    tiff = b"II" + struct.pack("<HI", 42, 8) + struct.pack("<H", 1)
    tiff += struct.pack("<HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack("<I", 0)
    body = b"Exif\x00\x00" + tiff
    data = jpeg.tobytes()
    path = tmp_path / "portrait.jpg"
    path.write_bytes(data[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + data[2:])
    with VideoReader(path) as reader:
        assert reader.probe.kind == "images" and reader.probe.frame_count == 1
        frames = list(reader)
    assert len(frames) == 1 and frames[0].frame_bgr.shape == (70, 30, 3)


def test_records_validate() -> None:
    with pytest.raises(ValueError):
        VideoProbe(Path("x"), "video", 0.0, 1, 1, 1, 0)
    with pytest.raises(ValueError):
        VideoProbe(Path("x"), "video", 25.0, 1, 1, 1, 45)
    with pytest.raises(ValueError):
        DecodeReport(Path("x"), 1, -1)


def test_discover_inputs_survives_symlink_loops(tmp_path: Path, monkeypatch) -> None:
    """Each real folder is listed once (following a loop went ~40 links deep, and two loops
    made that exponential)."""
    clips = tmp_path / "clips"
    (clips / "sub").mkdir(parents=True)
    video = clips / "sub" / "a.mp4"
    video.write_bytes(b"")
    (clips / "sub" / "loop").symlink_to(clips, target_is_directory=True)
    listed: list[Path] = []
    real_iterdir = Path.iterdir

    def counting_iterdir(self):
        listed.append(self)
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", counting_iterdir)
    assert discover_inputs([tmp_path]) == [video]
    assert len(listed) <= 2 * 3  # images + children of tmp_path, clips, clips/sub
