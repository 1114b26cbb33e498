# Two fresh-machine commands: `make demo` and `make test`. Each creates .venv and installs
# the project (torch 2.14.1 / torchvision 0.29.1 come from this machine's local wheel store).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= ../shared/data
OUT ?= out/demo
export YOLO_OFFLINE := 1
export QT_QPA_PLATFORM ?= offscreen

.PHONY: install demo test lint train train-heldout heldout-names clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The tests also cover the optional Ray engine (posetool run --engine ray): its extra on top.
RAY_STAMP := $(VENV)/.installed-ray
$(RAY_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,ray]'
	touch $(RAY_STAMP)

# Main job on bundled defaults, with the shipped DiffPose checkpoint: (1) the overlay video of
# a real video (the first 150 frames of shared/data's dancer) in out/demo; (2) the PoseTrack
# sample's labelled frames run through the same pipeline and scored against their ground
# truth (3 frames, 14 persons: a small, noisy check; resources/MODEL_CARD.md has the model's
# evaluation). Without ../shared/data: ultralytics' bundled photos, which have no ground
# truth, so nothing is scored (and the demo says so).
# --overwrite: out/demo is the demo's own scratch output, replaced on every run, even when an
# older posetool wrote it (without a provenance summary, which `run` would otherwise keep).
DEMO_INPUT ?= $(if $(wildcard $(DATA)/videos/dancer_mgt.avi),$(DATA)/videos/dancer_mgt.avi,$(ASSETS))
DEMO_GT := $(DATA)/posetrack18_sample
demo: $(STAMP)
	$(BIN)/posetool info
	$(BIN)/posetool run $(DEMO_INPUT) -o $(OUT) --render --max-frames 150 --overwrite
	@if [ -d $(DEMO_GT)/images/val ] && [ -d $(DEMO_GT)/annotations/val ]; then \
		set -e; \
		$(BIN)/posetool run $(DEMO_GT)/images/val -o $(OUT)/posetrack_sample --overwrite; \
		echo "PoseTrack sample ($(DEMO_GT)): the predictions above scored against the ground truth"; \
		$(BIN)/posetool eval $(DEMO_GT)/annotations/val $(OUT)/posetrack_sample --no-tracking; \
	else \
		echo "No ground truth available ($(DEMO_GT) is absent): the poses in $(OUT) are not scored."; \
	fi

# The shipped checkpoints, reproduced from scratch (seeded): pseudo-labels, the detector's own
# pose of every sample (whole frame at 640 px, and its Pose head on the sample's own crop),
# then the default model (refines the crop pose, trained on a corrupted copy of it, hips,
# knees and ankles weighted x2 in the loss) and the
# paper preset (pure noise; it ignores the priors) on the same data, each with its own feature
# cache file; both choose their epoch on LSP val (train images 901-1000).
VIDEOS := dancer_mgt.avi street_dance_openpose.avi basketball_mmaction2.mp4 \
	two_people_indoor_mmaction2.mp4 armwrestling_mmaction2.mp4 ntu_single_person.avi \
	squat_lsp.mp4 street_mmpose_demo.mp4 mot17_street_mmtracking.mp4
ASSETS = $(shell $(BIN)/python -c "import ultralytics, pathlib; print(pathlib.Path(ultralytics.__file__).parent / 'assets')" | tail -n 1)
TRAIN_DATA := --data lsp:$(DATA)/lsp:fit --data posetrack:out/pseudo:train
TRAIN_ARGS := $(TRAIN_DATA) --epochs 30 --milestones 15 25 --batch-size 32 --feature-cache 4 \
	--val-every 5 --val-steps 1 --val-ensemble 5 --seed 0 --val-lsp $(DATA)/lsp:val
REFINE_ARGS := --prior-jitter-prob 0.3 --prior-drop-prob 0.05 --prior-swap-prob 0.05 \
	--lower-body-weight 2
train: $(STAMP)
	$(BIN)/posetool pseudo-label $(addprefix $(DATA)/videos/,$(VIDEOS)) -o out/pseudo --every 3
	$(BIN)/posetool pseudo-label $(DATA)/images/coco_val2014_people $(ASSETS) -o out/pseudo --stills
	$(BIN)/posetool detector-priors --data lsp:$(DATA)/lsp:all --data posetrack:out/pseudo:train \
		-o out/priors.npz
	$(BIN)/posetool detector-priors --crop --data lsp:$(DATA)/lsp:all \
		--data posetrack:out/pseudo:train -o out/priors_crop.npz
	$(BIN)/python -m diffpose.train --preset cpu $(TRAIN_ARGS) --priors out/priors_crop.npz \
		$(REFINE_ARGS) --feature-cache-file out/feature_cache_crop.pt --out runs/cpu
	$(BIN)/python -m diffpose.train --preset cpu-paper $(TRAIN_ARGS) --priors out/priors.npz \
		--feature-cache-file out/feature_cache.pt --out runs/cpu_paper
	cp runs/cpu/best.safetensors resources/diffpose_cpu.safetensors
	cp runs/cpu/log.csv resources/train_log_cpu.csv
	cp runs/cpu_paper/best.safetensors resources/diffpose_cpu_paper.safetensors
	cp runs/cpu_paper/log.csv resources/train_log_cpu_paper.csv

# The validation sets' model: the default recipe without the five videos and the 22 photos
# whose hand-labelled frames (bench/val_video_labels/, bench/val_photo_labels/) the pipeline's
# settings are chosen on (python bench/own_video_check.py --set validation --variant ...;
# python bench/val_photos.py); the shipped model is then this recipe on all the data. Needs
# make train's pseudo-labels and priors in out/. HELDOUT_PHOTOS are the pseudo-label names
# make train's --stills gives the labelled photos (posetool.training.pseudo_label.still_name:
# coco_NNNNNN.json labels COCO_val2014_000000NNNNNN.jpg of coco_val2014_people/).
HELDOUT_VIDEOS := basketball_mmaction2 two_people_indoor_mmaction2 squat_lsp \
	mot17_street_mmtracking street_mmpose_demo
HELDOUT_PHOTOS := $(patsubst bench/val_photo_labels/coco_%.json,coco_val2014_people_COCO_val2014_000000%,\
	$(wildcard bench/val_photo_labels/coco_*.json)) assets_bus assets_zidane
HELDOUT := $(HELDOUT_VIDEOS) $(HELDOUT_PHOTOS)
heldout-names:
	@echo $(HELDOUT)
train-heldout: $(STAMP)
	@test -f out/priors_crop.npz || { echo "out/priors_crop.npz is missing: run make train first"; exit 1; }
	rm -rf out/pseudo_heldout
	mkdir -p out/pseudo_heldout/annotations/train
	ln -s ../pseudo/images out/pseudo_heldout/images
	for f in out/pseudo/annotations/train/*.json; do \
		name=$$(basename $$f .json); \
		case " $(HELDOUT) " in *" $$name "*) ;; \
		*) ln -s ../../../pseudo/annotations/train/$$name.json out/pseudo_heldout/annotations/train/ ;; \
		esac; \
	done
	@kept=$$(ls out/pseudo_heldout/annotations/train | wc -l); \
	all=$$(ls out/pseudo/annotations/train | wc -l); \
	test $$((all - kept)) -eq $(words $(HELDOUT)) || \
		{ echo "held out $$((all - kept)) files, not the $(words $(HELDOUT)) of HELDOUT_VIDEOS and HELDOUT_PHOTOS"; exit 1; }
	$(BIN)/python -m diffpose.train --preset cpu \
		$(subst out/pseudo:train,out/pseudo_heldout:train,$(TRAIN_ARGS)) \
		--priors out/priors_crop.npz $(REFINE_ARGS) \
		--feature-cache-file out/feature_cache_crop_heldout.pt --out runs/cpu_heldout

lint: $(STAMP)
	$(BIN)/ruff check posetool diffpose trackers tests bench
	$(BIN)/ruff format --check posetool diffpose trackers tests bench
	$(BIN)/lint-imports

test: $(RAY_STAMP) lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
