"""Group commit: one writer thread that makes many concurrent appends durable with one commit.

The contract, which the gateway relies on for "nothing passes unrecorded":

- ``append`` MUST NOT return before its entry, and the contents given with it, are durable in the
  store. It returns the entry's sequence number and canonical bytes.
- If the store cannot write, ``append`` MUST raise ``LedgerUnavailable``; the caller refuses the
  request. No sequence number is consumed by a failed batch.
- Sequence numbers are contiguous from 0, in commit order; the store assigns them inside its write
  transaction, so several gateway processes may append to one log.
- ``record_outcome`` is best effort after the response: it never blocks or fails a request.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from redline.errors import LedgerUnavailable
from redline.ledger.checkpoints import Checkpointer
from redline.ledger.entry import AppendedEntry, Draft
from redline.store import Content, Outcome, PendingEntry, Store

log = logging.getLogger("redline.ledger")


@dataclass
class _Append:
    draft: Draft
    loop: asyncio.AbstractEventLoop | None
    future: asyncio.Future[AppendedEntry] | None
    done: threading.Event | None = None
    result: AppendedEntry | BaseException | None = None


@dataclass
class _Outcome:
    outcome: Outcome
    contents: tuple[Content, ...]


_STOP = object()


class LedgerAppender:
    def __init__(
        self,
        store: Store,
        *,
        max_batch: int = 512,
        on_commit: Callable[[int, float], None] | None = None,
        checkpointer: Checkpointer | None = None,
    ) -> None:
        self._store = store
        self._checkpointer = checkpointer
        self._max_batch = max_batch
        self._on_commit = on_commit
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._healthy = True

    @property
    def healthy(self) -> bool:
        return self._healthy and self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="redline-ledger", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Drain everything queued, then stop the writer."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join()
        self._thread = None

    async def append(self, draft: Draft) -> AppendedEntry:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AppendedEntry] = loop.create_future()
        self._queue.put(_Append(draft, loop, future))
        return await future

    def append_blocking(self, draft: Draft) -> AppendedEntry:
        """The same contract as ``append``, for callers without an event loop (CLI, tests)."""
        job = _Append(draft, None, None, threading.Event())
        self._queue.put(job)
        assert job.done is not None
        job.done.wait()
        if isinstance(job.result, BaseException):
            raise job.result
        assert job.result is not None
        return job.result

    def record_outcome(self, outcome: Outcome, contents: Sequence[Content] = ()) -> None:
        self._queue.put(_Outcome(outcome, tuple(contents)))

    # -- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        wait = self._checkpointer.every_seconds if self._checkpointer else None
        while not stopping:
            try:
                jobs = [self._queue.get(timeout=wait)]
            except queue.Empty:
                jobs = []
            while len(jobs) < self._max_batch:
                try:
                    jobs.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in jobs:
                stopping = True
            self._commit(
                [job for job in jobs if isinstance(job, _Append)],
                [job for job in jobs if isinstance(job, _Outcome)],
            )
            self._checkpoint(final=stopping)

    def _checkpoint(self, *, final: bool) -> None:
        """Sign a checkpoint when one is due, and always on the way out."""
        if self._checkpointer is None:
            return
        try:
            entries = self._store.last_sequence() + 1
            if final or self._checkpointer.due(entries):
                self._checkpointer.checkpoint(entries)
        except Exception as exc:
            # Checkpoints trail the entries; the next attempt covers what this one missed.
            log.error("checkpoint failed: %s", type(exc).__name__, exc_info=exc)

    def _commit(self, appends: list[_Append], outcomes: list[_Outcome]) -> None:
        """One transaction for the whole batch: appends, their contents, and earlier outcomes."""
        if not appends and not outcomes:
            return
        started = time.perf_counter()
        pending = [
            PendingEntry(
                job.draft.decision_id,
                job.draft.time.isoformat(),
                *job.draft.index(),
                encode=job.draft.encode,
            )
            for job in appends
        ]
        contents = [content for job in appends for content in job.draft.contents]
        contents += [content for job in outcomes for content in job.contents]
        results: list[AppendedEntry | BaseException]
        try:
            stored = self._store.write_batch(pending, contents, [job.outcome for job in outcomes])
            self._healthy = True
            results = [AppendedEntry(e.seq, e.decision_id, e.entry) for e in stored]
        except Exception as exc:
            log.error("ledger write failed: %s", type(exc).__name__, exc_info=exc)
            self._healthy = False
            failure = LedgerUnavailable("the decision ledger cannot be written; request refused")
            results = [failure] * len(appends)
        if appends and self._on_commit is not None:
            self._on_commit(len(appends), time.perf_counter() - started)
        self._deliver(appends, results)

    @staticmethod
    def _deliver(jobs: list[_Append], results: list[AppendedEntry | BaseException]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Append, object]]] = {}
        for job, result in zip(jobs, results, strict=True):
            if job.loop is None:
                job.result = result
                assert job.done is not None
                job.done.set()
            else:
                by_loop.setdefault(job.loop, []).append((job, result))
        for loop, pairs in by_loop.items():
            # One wake-up per loop per batch, not one per entry.
            try:
                loop.call_soon_threadsafe(_resolve, pairs)
            except RuntimeError:  # the loop closed while its appends were committing
                log.warning("event loop closed before %d appends were delivered", len(pairs))


def _resolve(pairs: list[tuple[_Append, object]]) -> None:
    for job, result in pairs:
        future = job.future
        if future is None or future.done():
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)  # type: ignore[arg-type]
