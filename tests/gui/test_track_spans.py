"""Track lanes as per-track frame runs: after any sequence of edits they equal the runs of a
dense tracks x frames rebuild, and an edit only makes them look at the frames it replaced."""

from __future__ import annotations

import numpy as np

from posetool.gui import edits
from posetool.gui.session import AnnotationSession
from posetool.gui.track_spans import Runs, TrackSpans
from posetool.records import FrameRecord, VideoMeta, VideoResult


def _dense_runs(result: VideoResult) -> tuple[dict, dict]:
    """The oracle: per track, runs of present and of edited frames from dense masks."""
    ids = result.track_ids().tolist()
    present = np.zeros((len(ids), len(result.frames)), bool)
    edited = np.zeros_like(present)
    for fr in result.frames:
        for tid, flag in zip(fr.track_ids.tolist(), fr.human_edited.tolist(), strict=True):
            present[ids.index(tid), fr.frame_index] = True
            edited[ids.index(tid), fr.frame_index] = flag

    def runs(mask):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
        return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))

    return (
        {t: runs(present[k]) for k, t in enumerate(ids)},
        {t: runs(edited[k]) for k, t in enumerate(ids)},
    )


def _spans_runs(spans: TrackSpans) -> tuple[dict, dict]:
    return (
        {t: spans.present[t].pairs() for t in spans.ids},
        {t: spans.edited[t].pairs() for t in spans.ids},
    )


def test_runs_add_and_remove_merge_and_split():
    runs = Runs()
    for i in (5, 3, 4, 9, 7, 8):
        runs.add(i)
    assert runs.pairs() == [(3, 6), (7, 10)]
    runs.remove(8)
    runs.remove(3)
    runs.add(6)
    assert runs.pairs() == [(4, 8), (9, 10)]
    runs.remove(9)
    assert runs.pairs() == [(4, 8)]


def test_spans_follow_random_edits_and_look_only_at_changed_frames(tmp_path):
    rng = np.random.default_rng(0)
    frames = []
    for i in range(60):
        ids = sorted(rng.choice(6, size=rng.integers(0, 4), replace=False).tolist())
        n = len(ids)
        frames.append(
            FrameRecord(
                frame_index=i,
                boxes_xyxy=np.tile([0, 0, 10, 10], (n, 1)),
                box_scores=np.ones(n),
                track_ids=ids,
                keypoints_xy=np.ones((n, 17, 2)),
                keypoint_scores=np.ones((n, 17)),
            )
        )
    meta = VideoMeta(path="v.mp4", fps=10, frame_count=60, width=10, height=10)
    session = AnnotationSession(VideoResult(meta, tuple(frames)))
    spans = TrackSpans()
    assert spans.update(session.result) == 60
    assert _spans_runs(spans) == _dense_runs(session.result)
    done = 0
    while done < 40:
        frame = int(rng.integers(0, 60))
        tracks = session.result.frames[frame].track_ids.tolist()
        if not tracks:
            continue
        tid = int(rng.choice(tracks))
        kind = done % 4
        try:
            if kind == 0:
                edit = edits.delete_person(session.result, frame, tid)
            elif kind == 1:
                edit = edits.split_track(session.result, frame, tid)[0]
            elif kind == 2:
                edit = edits.reassign_track(session.result, frame, tid, int(rng.integers(0, 9)))
            else:
                edit = edits.move_keypoint(session.result, frame, tid, 3, (1.0, 2.0))
        except edits.EditError:
            continue
        session.apply(edit)
        if done % 5 == 4:
            session.undo()
            edit = session.redo()
        assert spans.update(session.result) == len(edit.after)
        assert _spans_runs(spans) == _dense_runs(session.result)
        done += 1
