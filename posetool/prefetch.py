"""An iterator run in a background thread, a bounded number of items ahead of its consumer.

The pipeline's decode → detect → track stage runs this way beside the pose model's threads
(:func:`posetool.pipeline.process_video`). Errors raised by the iterator are raised again in
the consumer's thread, in order, after the items before them; closing the prefetcher (or
leaving its ``with`` block early) stops the thread and closes the iterator in it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

__all__ = ["Prefetch"]

T = TypeVar("T")
_POLL_S = 0.05  # how often a blocked producer looks at the stop flag


class Prefetch(Generic[T]):
    """Iterate ``source`` in a daemon thread, at most ``ahead`` items ahead.

    Args:
        source: Any iterable; only the background thread touches it.
        ahead: Most items waiting in the queue (bounds the memory they hold).
        name: Thread name (shows in debuggers and logs).
    """

    def __init__(self, source: Iterable[T], ahead: int = 4, name: str = "prefetch") -> None:
        if ahead < 1:
            raise ValueError(f"ahead must be >= 1, got {ahead}")
        self._queue: queue.Queue = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, args=(source,), name=name, daemon=True)
        self._thread.start()

    def _run(self, source: Iterable[T]) -> None:
        it = iter(source)
        try:
            for item in it:
                if not self._put(("item", item)):
                    return
            self._put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._put(("error", exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    def _put(self, message: tuple) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(message, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == "item":
            return value
        self._done = True
        self._thread.join()
        if kind == "error":
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop the thread (it finishes the item in hand) and wait for it."""
        self._stop.set()
        self._done = True
        self._thread.join()

    def __enter__(self) -> Prefetch[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
