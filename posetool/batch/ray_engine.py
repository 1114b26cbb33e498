"""Batch runs on Ray (``posetool run --engine ray``): one task per video, on stateful workers.

The tracker and the 2δ+1 pose window carry state through a video, so a video is never split:
each Ray actor (:class:`VideoWorker`) loads the detector and DiffPose once, then runs one whole
video per call with :func:`posetool.batch.runner.process_and_write`, the function the local batch
runner uses, and writes the same outputs (streamed, atomic, with their provenance) into the
output folder, which every node must see at the same path (a shared filesystem). The driver
applies the local run's rules before anything reaches the cluster (:mod:`posetool.batch.runner`:
no output replaces an input, ``--resume`` skips complete inputs, outputs posetool did not
write or that hold edits are kept without ``--overwrite``), plans the workers, hands out
videos as workers free up, and writes ``config.yaml`` and ``run_summary.json``.

Ray is an optional extra (``pip install 'posetool[ray]'``) imported inside the functions of
this module only, so the default install and ``posetool --help`` never load it.
"""

from __future__ import annotations

import bisect
import logging
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from posetool.batch.runner import (
    OutputFolderError,
    inputs_to_run,
    prepare_output_folder,
    process_and_write,
)
from posetool.batch.summaries import BatchSummary, failed_summary, recorded_run
from posetool.run.pipeline import PipelineModels, VideoSummary, load_models
from posetool.run.pipeline_config import PipelineConfig

__all__ = ["RayEngineError", "VideoWorker", "WorkerPlan", "plan_workers", "run_batch_ray"]

logger = logging.getLogger(__name__)

#: Longest a wait for the next finished video blocks (s): a blocking ray.wait sees Ctrl-C
#: only when it returns, i.e. when a video ends, which can take minutes.
_WAIT_POLL_S = 0.5


class RayEngineError(RuntimeError):
    """The cluster cannot be reached or cannot host a worker."""


@dataclass(frozen=True)
class WorkerPlan:
    """How many Ray actors to start and what each one reserves."""

    workers: int
    cpus_per_worker: int
    gpus_per_worker: int


def plan_workers(
    videos: int,
    node_cpus: Sequence[float],
    node_gpus: Sequence[float],
    *,
    device: str = "cpu",
    threads: int = 0,
    workers: int = 0,
) -> WorkerPlan:
    """Share the cluster out among the videos to run.

    Args:
        videos: Videos to run (at most one worker each).
        node_cpus: CPUs of each live node.
        node_gpus: GPUs of each live node (same order).
        device: ``cuda...`` asks for one GPU per worker.
        threads: Cores per worker; 0 gives each worker an equal share of the cluster's cores
            (at most one node's worth): few videos get many cores each, many videos one each;
            with a GPU, a node's cores shared among its GPUs.
        workers: Workers wanted (0: as many as the videos and the cluster allow).

    Raises:
        RayEngineError: No node can host one worker.
    """
    gpus = 1 if device.startswith("cuda") else 0
    wanted = workers or videos
    if gpus:  # a GPU node's cores shared among its GPUs
        per_gpu = [int(c // g) for c, g in zip(node_cpus, node_gpus, strict=True) if g >= 1]
        cpus = threads or max(1, min(per_gpu, default=1))
    else:  # the cluster's cores shared among the workers, at most one node's
        largest = int(max(node_cpus, default=0))
        cpus = threads or max(1, min(largest, int(sum(node_cpus)) // max(wanted, 1)))
    fits = sum(
        min(int(c // cpus), int(g)) if gpus else int(c // cpus)
        for c, g in zip(node_cpus, node_gpus, strict=True)
    )
    if fits < 1:
        need = f"{cpus} CPU(s)" + (" and a GPU" if gpus else "")
        raise RayEngineError(
            f"no node of the Ray cluster has {need} free for one worker "
            f"(nodes: {list(node_cpus)} CPUs, {list(node_gpus)} GPUs)"
        )
    return WorkerPlan(min(wanted, fits, max(videos, 1)), cpus, gpus)


class VideoWorker:
    """A Ray actor's body: the models, loaded on the first video; one whole video per
    :meth:`run` call."""

    def __init__(self, config: PipelineConfig, trust_detector_weights: bool = False) -> None:
        self._config = config
        self._trust_detector_weights = trust_detector_weights
        self._models: PipelineModels | None = None

    def _loaded(self) -> PipelineModels:
        if self._models is None:
            self._models = load_models(self._config, self._trust_detector_weights)
        return self._models

    def run(self, path: str, name: str, out_dir: str, made_from: dict[str, Any]) -> VideoSummary:
        """Run one video and write its outputs (:func:`posetool.batch.runner.process_and_write`): a
        failure of this input becomes a failed summary; errors that would fail every input
        (missing weights, a full output folder) are raised."""
        return process_and_write(
            Path(path), name, Path(out_dir), self._config, made_from, self._loaded
        )


def run_batch_ray(
    inputs: Sequence[Path],
    out_dir: str | Path,
    config: PipelineConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    trust_detector_weights: bool = False,
    address: str | None = None,
    workers: int = 0,
    on_plan: Callable[[WorkerPlan, int], None] | None = None,
    on_video_end: Callable[[VideoSummary], None] | None = None,
) -> BatchSummary:
    """:func:`posetool.batch.runner.run_batch` on Ray: same outputs and rules, one actor task per video.

    Args:
        inputs: Video files / image folders, readable at the same path on every node.
        out_dir: Output folder, writable at the same path on every node.
        config: Run settings; ``threads`` is each worker's core count (0: a share, see
            :func:`plan_workers`).
        resume, overwrite, trust_detector_weights: As for :func:`~posetool.batch.runner.run_batch`.
        address: An existing cluster (``auto``, ``host:port``); None starts a local Ray
            instance with this machine's cores for the run and stops it after. When the
            caller is already connected (``ray.init``), that connection is used and kept.
        workers: Workers wanted (0: as many as the videos and the cluster allow).
        on_plan: Called with the plan and the number of videos to run, before they start.
        on_video_end: Called with each input's summary as it finishes (finish order).

    Returns:
        The summaries in input order, also written to ``run_summary.json``.

    Raises:
        OutputConflictError: An output would replace an input, or a run file not posetool's.
        RayEngineError: The cluster cannot be reached or cannot host a worker.
        WeightsError, CheckpointNotFoundError: The models cannot be loaded (every input would fail).
        OutputFolderError: The output folder filled up or vanished (the batch stopped).
        KeyboardInterrupt: Outstanding videos were cancelled and the workers stopped first.
    """
    out_dir = Path(out_dir).resolve()
    names = prepare_output_folder(inputs, out_dir, config, overwrite)
    with recorded_run(out_dir, BatchSummary()) as batch:
        finished: list[int] = []  # input indices of batch.videos, kept in input order

        def finish(i: int, summary: VideoSummary) -> None:
            summary.input = str(inputs[i])  # as given, like the local run (workers got it resolved)
            at = bisect.bisect(finished, i)
            finished.insert(at, i)
            batch.videos.insert(at, summary)
            if on_video_end:
                on_video_end(summary)

        jobs = []
        for i, path, name, summary, made_from in inputs_to_run(
            inputs, names, out_dir, config, resume, overwrite
        ):
            if summary is None:
                jobs.append((i, str(Path(path).resolve()), name, made_from))
            else:
                finish(i, summary)
        if jobs:
            with _connected(address) as ray:
                nodes = [n["Resources"] for n in ray.nodes() if n["Alive"]]
                plan = plan_workers(
                    len(jobs),
                    [n.get("CPU", 0) for n in nodes],
                    [n.get("GPU", 0) for n in nodes],
                    device=config.pose.device,
                    threads=config.threads,
                    workers=workers,
                )
                if on_plan:
                    on_plan(plan, len(jobs))
                worker_config = replace(config, threads=plan.cpus_per_worker)
                try:
                    _run_on_workers(
                        ray,
                        plan,
                        (worker_config, trust_detector_weights),
                        jobs,
                        str(out_dir),
                        finish,
                    )
                except OutputFolderError as exc:
                    raise exc.after(len(finished), len(inputs)) from exc
    return batch


@contextmanager
def _connected(address: str | None) -> Iterator[object]:
    """The ``ray`` module, connected to ``address`` (None: a local instance started here);
    a connection opened here is closed on exit."""
    try:
        import ray
    except ImportError:
        raise RayEngineError("--engine ray needs Ray: pip install 'posetool[ray]'") from None
    if ray.is_initialized():
        yield ray
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine
    try:
        if address:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        else:
            from diffpose.torch_threads import usable_cpu_count

            ray.init(
                address="local",
                num_cpus=usable_cpu_count(),
                include_dashboard=False,
                logging_level=logging.WARNING,
                log_to_driver=False,
            )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise RayEngineError(f"cannot start or reach {where}: {exc}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def _run_on_workers(
    ray,
    plan: WorkerPlan,
    worker_args: tuple[PipelineConfig, bool],
    jobs: list[tuple[int, str, str, dict[str, Any]]],
    out_dir: str,
    finish: Callable[[int, VideoSummary], None],
) -> None:
    """Hand the videos out one at a time to ``plan.workers`` actors (built with
    ``worker_args``: the config and whether to trust the detector weights) until all are done.

    An error a worker raises (missing weights, a full output folder) would fail every video
    alike: it stops the run, raised as the worker's own exception. A worker that dies (its process crashed, its node was lost) is restarted once by Ray,
    which runs its video again; if it dies again the video fails with the reason and a new
    worker takes the next video. On any exit, outstanding tasks are cancelled and the actors
    killed (Ctrl-C included).
    """
    from ray.exceptions import RayActorError, RayTaskError

    actor_class = ray.remote(VideoWorker).options(
        num_cpus=plan.cpus_per_worker,
        num_gpus=plan.gpus_per_worker,
        max_restarts=1,
        max_task_retries=1,
    )
    queue = deque(jobs)
    actors: list = []
    running: dict = {}  # ObjectRef -> (actor, job)

    def new_worker():
        actor = actor_class.remote(*worker_args)
        actors.append(actor)
        return actor

    def submit(actor) -> None:
        if queue:
            job = queue.popleft()
            running[actor.run.remote(job[1], job[2], out_dir, job[3])] = (actor, job)

    try:
        for _ in range(plan.workers):
            submit(new_worker())
        while running:
            ready: list = []
            while not ready:  # short waits: Ctrl-C is seen at once, not when a video ends
                ready, _ = ray.wait(list(running), num_returns=1, timeout=_WAIT_POLL_S)
            [ref] = ready
            actor, (i, path, name, _) = running.pop(ref)
            try:
                summary = ray.get(ref)
            except RayTaskError as exc:  # raised by the worker: fails every input alike
                cause = _cause(exc)
                finish(i, failed_summary(Path(path), name, cause))
                raise cause from None
            except RayActorError as exc:
                summary = failed_summary(
                    Path(path),
                    name,
                    RuntimeError(
                        f"the Ray worker running it died twice: {str(exc).splitlines()[0]}"
                    ),
                )
                if queue:
                    actor = new_worker()
            finish(i, summary)
            submit(actor)
    finally:
        for ref in running:
            ray.cancel(ref)
        for actor in actors:
            ray.kill(actor, no_restart=True)


def _cause(exc) -> BaseException:
    """The worker's own exception (WeightsError...) inside Ray's wrapper."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc
