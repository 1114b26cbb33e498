#!/usr/bin/env bash
# Drive the real viewer window under Xvfb as an analyst would, and screenshot each step:
# open a clip with its poses, review three queue items, drag a joint, swap left/right,
# interpolate between two keyframes, save, edit once more, kill -9 the viewer, reopen and
# recover the unsaved edit from the journal. Checks the saved file at the end.
#
# usage: bench/viewer_session_xvfb.sh VIDEO POSES.json OUT_DIR [FRAMES]
#   VIDEO/POSES: e.g. /work/shared/data/videos/two_people_indoor_mmaction2.mp4 and the JSON of
#   `posetool run --max-frames 40` on it; the first FRAMES (40) frames are cut into a clip.
# Needs Debian's xvfb, xdotool, imagemagick and Qt's xcb libraries (README, "Viewer").
# Screenshots: OUT_DIR/NN_step.png. Run from the repository root; PY picks the interpreter.
set -euo pipefail
VIDEO=$1 POSES=$2 OUT=$3 FRAMES=${4:-40}
PY=${PY:-python}
DISPLAY_NUM=${DISPLAY_NUM:-:7}
export DISPLAY=$DISPLAY_NUM QT_QPA_PLATFORM=xcb PYTHONPATH=$PWD XDG_CONFIG_HOME=$OUT/config
mkdir -p "$OUT"
CLIP=$OUT/clip.avi JSON=$OUT/clip.json
rm -f "$JSON".* "$OUT"/*.png

"$PY" - "$VIDEO" "$POSES" "$CLIP" "$JSON" "$FRAMES" <<'EOF'
import shutil, sys, cv2
video, poses, clip, json_path, frames = sys.argv[1:6]
cap = cv2.VideoCapture(video)
fps, size = cap.get(cv2.CAP_PROP_FPS), (int(cap.get(3)), int(cap.get(4)))
out = cv2.VideoWriter(clip, cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
for _ in range(int(frames)):
    ok, img = cap.read()
    if not ok:
        break
    out.write(img)
out.release()
shutil.copy(poses, json_path)
EOF

if ! xdotool getdisplaygeometry >/dev/null 2>&1; then
  Xvfb "$DISPLAY_NUM" -screen 0 1600x1000x24 -nolisten tcp >"$OUT/xvfb.log" 2>&1 &
  XVFB=$!
  trap 'kill $XVFB 2>/dev/null || true' EXIT
  sleep 2
fi

VIEWER=
start_viewer() {
  "$PY" -m posetool.cli view "$CLIP" --poses "$JSON" >>"$OUT/viewer.log" 2>&1 &
  VIEWER=$!
  WIN=$(xdotool search --sync --name "posetool viewer" | head -1)
  xdotool windowmove "$WIN" 0 0 windowsize "$WIN" 1600 1000 windowfocus --sync "$WIN"
  sleep 3
}
shot() { sleep 1; import -window root "$OUT/$1.png"; }
key() { xdotool key --delay 150 "$@"; sleep 0.5; }

# Screen position of image point (x, y) of the shown frame: the frame view letterboxes the
# picture on its background rgb(30,30,30); the picture is the rest of that area.
locate() {
  import -window root "$OUT/.locate.png"
  "$PY" - "$OUT/.locate.png" "$1" "$2" "$(jq_size)" <<'EOF'
import sys, cv2, numpy as np
img = cv2.imread(sys.argv[1])
x, y = float(sys.argv[2]), float(sys.argv[3])
w, h = (int(v) for v in sys.argv[4].split("x"))
bg = np.all(img == 30, axis=2)
n, labels, stats, _ = cv2.connectedComponentsWithStats(bg.astype(np.uint8))
big = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] > 5000]
x0 = min(stats[i, 0] for i in big); x1 = max(stats[i, 0] + stats[i, 2] for i in big)
y0 = min(stats[i, 1] for i in big); y1 = max(stats[i, 1] + stats[i, 3] for i in big)
rows = np.flatnonzero(bg[y0:y1, x0:x1].mean(1) < 0.5) + y0
cols = np.flatnonzero(bg[y0:y1, x0:x1].mean(0) < 0.5) + x0
sx, sy = (cols[-1] + 1 - cols[0]) / w, (rows[-1] + 1 - rows[0]) / h
print(round(cols[0] + x * sx), round(rows[0] + y * sy))
EOF
}
jq_size() { "$PY" -c "import cv2; c=cv2.VideoCapture('$CLIP'); print(f'{int(c.get(3))}x{int(c.get(4))}')"; }
# The joint JOINT of track TRACK (default: the lowest id) in FRAME of the poses file, as
# "track x y".
joint() {
  "$PY" - "$JSON" "$1" "$2" "${3:--1}" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
frame, joint, track = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
image = sorted(data["images"], key=lambda im: im["id"])[frame]["id"]
anns = [a for a in data["annotations"] if a["image_id"] == image]
ann = min(anns, key=lambda a: (a["track_id"] != track, a["track_id"]))
print(ann["track_id"], ann["keypoints"][3 * joint], ann["keypoints"][3 * joint + 1])
EOF
}
drag() {  # drag from image point ($1, $2) by ($3, $4) screen px
  read -r sx sy < <(locate "$1" "$2")
  xdotool mousemove "$sx" "$sy" sleep 0.3 mousedown 1 sleep 0.2
  for i in 1 2 3 4 5; do xdotool mousemove "$((sx + $3 * i / 5))" "$((sy + $4 * i / 5))" sleep 0.05; done
  xdotool mouseup 1
  sleep 0.5
}

L_WRIST=9
start_viewer
shot 01_open
key bracketright          # the most uncertain person-frame
shot 02_review_first
key r r r                 # mark three reviewed, each moving on to the next
shot 03_reviewed_three
key --repeat 45 Left      # back to frame 0
read -r TRACK X Y < <(joint 0 $L_WRIST)
drag "$X" "$Y" 40 30      # frame 0: drag the left wrist (a keyframe now, wrist selected)
shot 04_dragged
key x                     # swap the wrists of that person
shot 05_swapped
key --repeat 10 Right     # frame 10: drag the same person's left wrist: a second keyframe
read -r _ X Y < <(joint 10 $L_WRIST "$TRACK")
drag "$X" "$Y" -30 20
key --repeat 5 Left       # frame 5, the person still selected: fill 1-9 from the keyframes
key i
read -r _ X Y < <(joint 5 0 "$TRACK")   # hover the nose: the tooltip names the joint
read -r sx sy < <(locate "$X" "$Y")
xdotool mousemove "$sx" "$sy" sleep 0.3 mousemove "$((sx + 1))" "$sy"
sleep 1.5
shot 06_interpolated
key F1
shot 07_help
key Escape
key ctrl+s
shot 08_saved
key --repeat 15 Right     # frame 20: one more edit after the save, then a kill -9
read -r _ X Y < <(joint 20 $L_WRIST)
drag "$X" "$Y" 25 -25
sleep 1
kill -9 "$VIEWER"
wait "$VIEWER" 2>/dev/null || true
ls "$JSON.journal"

start_viewer              # the journal is offered back: Yes (the default) recovers
DIALOG=$(xdotool search --sync --name "Recover unsaved edits" | head -1)
shot 09_recover_question
xdotool windowfocus --sync "$DIALOG" key Return
sleep 2
shot 10_recovered
xdotool windowfocus --sync "$WIN"   # no window manager gives the focus back
key ctrl+s
sleep 1
kill "$VIEWER"
wait "$VIEWER" 2>/dev/null || true

"$PY" - "$JSON" "$TRACK" <<'EOF'
import json, sys
anns = json.load(open(sys.argv[1]))["annotations"]
track = int(sys.argv[2])
reviewed = sorted(a["image_id"] for a in anns if a.get("reviewed"))
interp = sorted(a["image_id"] for a in anns if a.get("interpolated") and a["track_id"] == track)
edited = sorted(a["image_id"] for a in anns if a.get("human_edited"))
print(f"reviewed frames {reviewed}, interpolated frames {interp}, edited frames {edited}")
# interpolation clears the reviewed mark of the frames it fills
assert 1 <= len(reviewed) <= 3 and interp == list(range(1, 10)), "the session did not stick"
assert edited == [0, 10, 20], "the edit after the save was not recovered"
EOF
echo "screenshots in $OUT"
