"""Group commit: the pings a web process receives together share one transaction.

Each gunicorn thread answering a ping puts it in the process's queue. If no thread is
recording pings at that moment, this one becomes the leader: it takes everything
queued (its own ping first, at most MAX_BATCH), records the lot with
`services.ping_many` on its own database connection, hands each waiting thread its
result and, if more pings queued up meanwhile, wakes the first of their threads to
lead the next batch. The others (followers) wait for their result.

With one ping at a time the leader's batch is its own ping: no waiting, no other
thread involved. Under load, one transaction and one log flush serve many pings, and
each answer still goes out only after the COMMIT that stored its ping.

One batch at a time per process: that makes the batches as large as the load allows.
A batch never waits for a row lock (`FOR UPDATE SKIP LOCKED`): a check that another
transaction holds is left out of it, and its ping is recorded on its own instead, in
its own thread, so a slow transaction elsewhere holds up only the pings of its checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connections

from checks import services
from checks.models import PingKind
from checks.services import PingData, PingTarget

log = logging.getLogger(__name__)

# Pings per transaction at most (the statement grows with the batch).
MAX_BATCH = 64
# A follower that gets no answer in this long gives up on the batch and records its
# ping on its own (the Django road: services.ping_by_code / ping_by_slug).
WAIT_LIMIT = 30.0
# AsyncGroupCommit under load: before a batch, wait at most this long (seconds) for as
# many pings as the previous batch answered. Those clients send their next ping at
# once, but it reaches the queue a few hundred microseconds apart; a batch taken at
# the first would carry one ping and leave the rest to the next (docs/performance.md).
GATHER_WAIT = 0.001
# "Under load": the previous batch ended at most this long (seconds) ago.
GATHER_AFTER = 0.005


class Outcome:
    """Why a ping gets no result from a batch: it is answered the one-ping way."""

    NOT_RECORDED = "not recorded"


@dataclass(eq=False)
class _Job:
    target: PingTarget
    ping: PingData
    now: datetime
    # Set once: when the job's batch is over, or when its thread is to lead.
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    result: PingKind | str | None = Outcome.NOT_RECORDED


class GroupCommit:
    """One per web process; `record` is called by the threads answering pings."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self.max_batch = max_batch
        self._lock = threading.Lock()
        # Pings not yet in a batch. Not empty only while a thread leads.
        self._queue: list[_Job] = []
        self._leading = False

    def record(
        self, target: PingTarget, ping: PingData, now: datetime
    ) -> PingKind | str | None:
        """The kind the ping was logged as; None if it names no check (or an
        ambiguous slug, or a check locked by another transaction),
        Outcome.NOT_RECORDED if its batch failed. In both of those cases nothing
        was written for this ping."""
        job = _Job(target, ping, now)
        with self._lock:
            self._queue.append(job)
            lead = not self._leading
            self._leading = True
        if lead or self._follow(job):
            self._lead()
        return job.result

    def _follow(self, job: _Job) -> bool:
        """Wait for the job's batch to end (False) or to be made leader (True)."""
        if not job.wake.wait(WAIT_LIMIT):
            with self._lock:
                if not job.lead and job in self._queue:
                    # Nobody took it in time: it is recorded on its own instead.
                    self._queue.remove(job)
                    return False
            # Taken into the batch in flight, or made leader, just now: wait for
            # that (a statement timeout or a lost connection ends a batch).
            job.wake.wait()
        return job.lead

    def _lead(self) -> None:
        """Record the first queued pings (this thread's among them), then pass the
        lead to the first of the pings queued meanwhile, if any."""
        with self._lock:
            batch = self._queue[: self.max_batch]
            del self._queue[: self.max_batch]
        try:
            self._run(batch)
        finally:
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.lead = True
                    successor.wake.set()
                else:
                    self._leading = False

    def _run(self, batch: list[_Job]) -> None:
        results: list[Result] = [Outcome.NOT_RECORDED] * len(batch)
        try:
            results = record_batch([(j.target, j.ping, j.now) for j in batch])
        finally:
            for job, result in zip(batch, results, strict=True):
                job.result = result
                job.wake.set()


Result = PingKind | str | None


def record_batch(pings: list[tuple[PingTarget, PingData, datetime]]) -> list[Result]:
    """services.ping_many; on any error, Outcome.NOT_RECORDED for every ping: each
    is then recorded on its own, and answered as the one-ping path answers."""
    try:
        return list(services.ping_many(pings))
    except Exception as e:  # noqa: BLE001 - any database error, see above
        log.warning(
            "a batch of %d pings was not recorded (%s); each is recorded alone",
            len(pings),
            type(e).__name__,
        )
        return [Outcome.NOT_RECORDED] * len(pings)


@dataclass(eq=False)
class _AsyncJob:
    target: PingTarget
    ping: PingData
    now: datetime
    future: asyncio.Future[Result]


class AsyncGroupCommit:
    """The group commit for an event loop (hcserver/asgi.py): the loop hands pings to
    one thread of the process, which records what has queued up in batches, one
    batch at a time, and hands the results back to the loop once per batch.

    Under load (the last batch ended less than GATHER_AFTER ago), the thread waits up
    to GATHER_WAIT for as many pings as the last batch carried before it takes the
    next: the clients it answered ping again at once, and one transaction for all of
    them costs PostgreSQL about half as much per ping as one for each."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._queue: list[_AsyncJob] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closing = False
        # The size of the last batch and when it ended (time.monotonic()).
        self._last: tuple[int, float] = (0, 0.0)
        # While the thread gathers a batch: the queue length it waits for (0: none).
        self._want = 0

    def close(self) -> None:
        """Record what is queued, then stop the thread and close its connection."""
        with self._lock:
            self._closing = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()

    async def record(self, target: PingTarget, ping: PingData, now: datetime) -> Result:
        """As GroupCommit.record, without blocking the event loop."""
        job = _AsyncJob(target, ping, now, asyncio.get_running_loop().create_future())
        with self._lock:
            self._enqueue(job)
            if self._thread is None or not self._thread.is_alive():
                # Started in the process that records (gunicorn forks after import).
                self._thread = threading.Thread(
                    target=self._work, name="ping-group-commit", daemon=True
                )
                self._thread.start()
        # The thread clears the flag under the lock, and only when it has found the
        # queue empty: set and still set after this job was queued means it will
        # look at the queue again.
        if not self._wake.is_set():
            self._wake.set()
        timer = job.future.get_loop().call_later(WAIT_LIMIT, self._expire, job)
        try:
            return await job.future
        finally:
            timer.cancel()

    def _enqueue(self, job: _AsyncJob) -> None:
        """Queue a job; called with the lock held. A thread gathering a batch is
        woken once, when the batch is complete, not at every ping."""
        self._queue.append(job)
        if self._want and len(self._queue) >= self._want:
            self._arrived.notify()

    def _expire(self, job: _AsyncJob) -> None:
        """Nobody took the job in time: it is recorded on its own instead. (Taken
        into the batch in flight, it waits for that batch to end: a statement
        timeout or a lost connection ends it.)"""
        with self._lock:
            if job in self._queue:
                self._queue.remove(job)
                job.future.set_result(Outcome.NOT_RECORDED)

    def _work(self) -> None:
        try:
            while True:
                self._wake.wait()
                with self._lock:
                    self._gather()
                    batch = self._queue[: self.max_batch]
                    del self._queue[: self.max_batch]
                    last = self._closing and not self._queue
                    if not self._queue and not self._closing:
                        self._wake.clear()
                if batch:
                    self._run(batch)
                    self._last = len(batch), time.monotonic()
                if last:
                    return
        finally:
            connections.close_all()

    def _gather(self) -> None:
        """Under load, wait (GATHER_WAIT at most) until as many pings have queued up
        as the last batch answered. Called with the lock held."""
        size, ended = self._last
        now = time.monotonic()
        if size < 2 or now - ended > GATHER_AFTER:
            return
        deadline = now + GATHER_WAIT
        self._want = size
        try:
            while len(self._queue) < size and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._arrived.wait(left)
        finally:
            self._want = 0

    def _run(self, batch: list[_AsyncJob]) -> None:
        results: list[Result] = [Outcome.NOT_RECORDED] * len(batch)
        try:
            results = record_batch([(j.target, j.ping, j.now) for j in batch])
        finally:
            loops: dict[asyncio.AbstractEventLoop, list[tuple[_AsyncJob, Result]]] = {}
            for job, result in zip(batch, results, strict=True):
                loops.setdefault(job.future.get_loop(), []).append((job, result))
            for loop, answers in loops.items():
                # RuntimeError: that loop is closed, nobody waits any more.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_answer, answers)


def _answer(answers: list[tuple[_AsyncJob, Result]]) -> None:
    for job, result in answers:
        if not job.future.done():
            job.future.set_result(result)
