"""Keyframe interpolation: the frames an analyst edited are a track's keyframes, and the frames
between two of them are filled in linearly in image space, per joint.

A joint hidden in either keyframe is not invented: where the track is already in a frame in
between, the model's estimate of that joint is left as it was; where the track is missing,
the joint is added hidden. The box is interpolated too (a track missing in between is added
with the interpolated box). Filled persons are marked ``interpolated``, not ``human_edited``:
they are not the analyst's own placements, and filling again replaces them.

Qt-free. Shape letters: K keypoints.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from diffpose.keypoints import NUM_KEYPOINTS
from posetool.gui.edits import EditError, FrameEdit, append_person, writable_columns
from posetool.records import FrameRecord, VideoResult

__all__ = ["interpolate_around", "interpolate_between", "keyframes", "keyframe_gap"]


def keyframes(result: VideoResult, track_id: int) -> list[int]:
    """Frames where ``track_id`` was edited by the analyst, in order."""
    return [
        fr.frame_index
        for fr in result.frames
        if (p := fr.index_of_track(track_id)) is not None and fr.human_edited[p]
    ]


def keyframe_gap(result: VideoResult, track_id: int, frame: int) -> tuple[int, int]:
    """The two consecutive keyframes of ``track_id`` around ``frame``: the last at or before it
    and the first after it (if ``frame`` is the last keyframe, the one before it and ``frame``).

    Raises:
        EditError: there are fewer than two keyframes on the sides of ``frame``.
    """
    keys = keyframes(result, track_id)
    before = [k for k in keys if k <= frame]
    after = [k for k in keys if k > frame]
    if before and after:
        return before[-1], after[0]
    if len(before) >= 2 and before[-1] == frame:
        return before[-2], frame
    raise EditError(
        f"track {track_id} needs an edited frame (keyframe) on each side of "
        f"frame {frame}; it has {len(keys)} keyframe(s)"
    )


def _filled(
    rec: FrameRecord, track_id: int, t: float, key_a: FrameRecord, key_b: FrameRecord
) -> FrameRecord:
    """``rec`` with the person ``track_id`` set to the blend ``t`` of the two keyframes."""
    pa, pb = key_a.index_of_track(track_id), key_b.index_of_track(track_id)
    both = key_a.keypoint_visible[pa] & key_b.keypoint_visible[pb]
    xy = (1 - t) * key_a.keypoints_xy[pa] + t * key_b.keypoints_xy[pb]
    score = (1 - t) * key_a.keypoint_scores[pa] + t * key_b.keypoint_scores[pb]
    box = (1 - t) * key_a.boxes_xyxy[pa] + t * key_b.boxes_xyxy[pb]
    p = rec.index_of_track(track_id)
    if p is None:  # the track is missing here: add it, the joints not interpolated hidden
        person = {
            "boxes_xyxy": box,
            "box_scores": 1.0,
            "track_ids": track_id,
            "keypoints_xy": xy,
            "keypoint_scores": np.where(both, score, 0.0),
            "keypoint_spread_px": np.full(NUM_KEYPOINTS, np.nan),
            "keypoint_visible": both,
            "head_boxes_xyxy": np.full(4, np.nan),
            "human_edited": False,
            "reviewed": False,
            "interpolated": True,
        }
        return append_person(rec, person)
    cols = writable_columns(rec)
    cols["boxes_xyxy"][p] = box
    cols["keypoints_xy"][p][both] = xy[both]
    cols["keypoint_scores"][p][both] = score[both]
    cols["keypoint_spread_px"][p][both] = np.nan  # no ensemble made these
    cols["interpolated"][p] = True
    cols["reviewed"][p] = False
    return replace(rec, **cols)


def interpolate_between(result: VideoResult, track_id: int, first: int, last: int) -> FrameEdit:
    """Fill the frames strictly between the keyframes ``first`` and ``last`` of ``track_id``.

    Raises:
        EditError: either frame is not a keyframe of the track, a frame in between is one, or
            there is no frame in between.
    """
    keys = set(keyframes(result, track_id))
    if first not in keys or last not in keys:
        raise EditError(f"frames {first} and {last} must both be keyframes of track {track_id}")
    if last - first < 2:
        raise EditError(f"no frame between keyframes {first} and {last}")
    inside = sorted(k for k in keys if first < k < last)
    if inside:
        raise EditError(f"frame {inside[0]} between {first} and {last} is a keyframe too")
    key_a, key_b = result.frames[first], result.frames[last]
    after = {
        i: _filled(result.frames[i], track_id, (i - first) / (last - first), key_a, key_b)
        for i in range(first + 1, last)
    }
    before = {i: result.frames[i] for i in after}
    return FrameEdit(
        f"interpolate track {track_id} between frames {first} and {last}", before, after
    )


def interpolate_around(result: VideoResult, track_id: int, frame: int) -> FrameEdit:
    """Fill the gap between the keyframes of ``track_id`` around ``frame`` (see
    :func:`keyframe_gap`)."""
    return interpolate_between(result, track_id, *keyframe_gap(result, track_id, frame))
