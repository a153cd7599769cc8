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
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from checks import services
from checks.models import PingKind
from checks.services import PingData, PingTarget

log = logging.getLogger(__name__)

# Pings per transaction at most (the statement grows with the batch).
MAX_BATCH = 64
# A follower that gets no answer in this long gives up on the batch and records its
# ping on its own (services.ping_by_code / ping_by_slug, through the Django view).
WAIT_LIMIT = 30.0
# Batches in flight at once per process.
LEADERS = int(os.environ.get("PING_LEADERS", 2))


class Outcome:
    """Why a ping gets no result from a batch: it is answered the one-ping way."""

    NOT_RECORDED = "not recorded"


@dataclass(eq=False)
class _Job:
    target: PingTarget
    ping: PingData
    now: datetime
    wake: threading.Event = field(default_factory=threading.Event)
    # Both set under GroupCommit._lock, then `wake`.
    lead: bool = False  # this thread is to lead a batch
    finished: bool = False  # its batch is over: `result` is final
    result: PingKind | str | None = Outcome.NOT_RECORDED


class GroupCommit:
    """One per web process; `record` is called by the threads answering pings.

    Up to `leaders` batches are in flight at once, so that one batch's COMMIT (a log
    flush) does not hold up the pings queued behind it.
    """

    def __init__(self, max_batch: int = MAX_BATCH, leaders: int = LEADERS) -> None:
        self.max_batch = max_batch
        self.leaders = leaders
        self._lock = threading.Lock()
        self._queue: list[_Job] = []
        self._leading = 0

    def record(
        self, target: PingTarget, ping: PingData, now: datetime
    ) -> PingKind | str | None:
        """The kind the ping was logged as; None if it names no check (or an
        ambiguous slug), Outcome.NOT_RECORDED if its batch failed. In both of those
        cases nothing was written for this ping."""
        job = _Job(target, ping, now)
        with self._lock:
            self._queue.append(job)
            lead = self._leading < self.leaders
            if lead:
                self._leading += 1
        if lead or self._follow(job):
            self._lead(job)
        return job.result

    def _follow(self, job: _Job) -> bool:
        """Wait for the job's result (False) or to be made leader (True)."""
        deadline = time.monotonic() + WAIT_LIMIT
        while True:
            woken = job.wake.wait(max(0.0, deadline - time.monotonic()))
            with self._lock:
                if job.lead:  # even if its ping is recorded: the lead is this one's
                    job.lead = False
                    job.wake.clear()
                    return True
                if job.finished:
                    return False
                job.wake.clear()
                if not woken and job in self._queue:
                    # Nobody took it in time: it is recorded on its own instead.
                    self._queue.remove(job)
                    return False
            if not woken:
                # Taken into a batch just now: wait for that batch to end (a
                # statement timeout or a lost connection ends it).
                deadline = time.monotonic() + WAIT_LIMIT

    def _lead(self, job: _Job) -> None:
        """Record batches until this job's is over or nothing is queued, then pass
        the lead on to the first queued job, if any."""
        while not job.finished:
            with self._lock:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
            if not batch:
                break  # this job is in another leader's batch
            self._run(batch)
        with self._lock:
            if self._queue:
                successor = self._queue[0]
                successor.lead = True
                successor.wake.set()
            else:
                self._leading -= 1
        while not job.finished:
            job.wake.wait()
            with self._lock:
                job.wake.clear()

    def _run(self, batch: list[_Job]) -> None:
        results: list[PingKind | str | None] = [Outcome.NOT_RECORDED] * len(batch)
        try:
            results = list(
                services.ping_many([(j.target, j.ping, j.now) for j in batch])
            )
        except Exception as e:  # noqa: BLE001 - any database error: each ping of the
            # batch is then recorded on its own, and answered as the one-ping path
            # answers.
            log.warning(
                "a batch of %d pings was not recorded (%s); each is recorded alone",
                len(batch),
                type(e).__name__,
            )
        finally:
            with self._lock:
                for job, result in zip(batch, results, strict=True):
                    job.result = result
                    job.finished = True
                    job.wake.set()
