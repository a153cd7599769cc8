"""The `web` role's gunicorn worker: gunicorn's asgi worker, sharing connections out.

gunicorn's worker processes share one listening socket. The asgi worker serves it
through asyncio, which accepts every connection waiting there (up to 100) each time
the socket turns readable. Clients that open several keep-alive connections at once
(a reverse proxy's pool of upstream connections, a load tester) then all land in the
process that woke first, and stay there: it does the work of all while the others
idle. Measured with 8 wrk connections on 2 processes (docs/performance.md): 8/0 in
half the runs, with a third fewer pings/s than 4/4.

This worker deals connections out instead. Each process publishes how many
connections it holds in a table shared by the processes gunicorn forks; a process
takes the next connection only if it holds at most one more than the process that
holds fewest (`takes_next`), and otherwise leaves it in the listen queue for that
one. Whatever it decides, it then leaves the socket alone for ACCEPT_PAUSE: one
accept at a time, with time for its count to catch up. A process that has been
held back for ACCEPT_WAIT_MAX takes the connection anyway, so a stalled process
never stops the others. Nothing else changes: same loop, protocol and settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import os
from collections.abc import Callable
from typing import Any

from gunicorn.workers.gasgi import ASGIWorker

# Seconds between two looks at the listening socket in one process.
ACCEPT_PAUSE = 0.0005
# Seconds a process leaves a waiting connection to the others at most.
ACCEPT_WAIT_MAX = 0.05
# Worker processes that take part at most (beyond that, a process accepts freely).
SLOTS = 64


def takes_next(mine: int, others: list[int]) -> bool:
    """Whether a process holding `mine` connections takes the next one, when the
    other processes hold `others`."""
    return not others or mine <= min(others) + 1


class ConnectionTable:
    """(pid, connections held) per worker process, in memory shared across fork.

    Created on import: gunicorn's arbiter imports the worker class before it forks
    the workers, so they all see the same table.
    """

    def __init__(self, slots: int = SLOTS) -> None:
        self.slots = slots
        self.cells = multiprocessing.RawArray(ctypes.c_long, 2 * slots)
        self.lock = multiprocessing.Lock()

    def claim(self, pid: int) -> int | None:
        """A slot for process `pid`: a free one, or one a dead process left."""
        with self.lock:
            for slot in range(self.slots):
                owner = self.cells[2 * slot]
                if owner == 0 or owner == pid or not _alive(owner):
                    self.cells[2 * slot], self.cells[2 * slot + 1] = pid, 0
                    return slot
        return None

    def release(self, slot: int, pid: int) -> None:
        with self.lock:
            if self.cells[2 * slot] == pid:
                self.cells[2 * slot], self.cells[2 * slot + 1] = 0, 0

    def publish(self, slot: int, held: int) -> None:
        self.cells[2 * slot + 1] = held

    def others(self, slot: int) -> list[int]:
        """What the other live processes hold (slots of dead ones are freed)."""
        held = []
        for other in range(self.slots):
            owner = self.cells[2 * other]
            if other == slot or owner == 0:
                continue
            if not _alive(owner):
                self.release(other, owner)
                continue
            held.append(self.cells[2 * other + 1])
        return held


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


TABLE = ConnectionTable()


class SharingLoop(asyncio.SelectorEventLoop):
    """An asyncio loop that accepts one connection at a time, when `takes_next`
    says this process should (`held` counts the connections it has)."""

    def __init__(self, held: Callable[[], int], table: ConnectionTable = TABLE):
        super().__init__()
        self.held = held
        self.table = table
        self.slot: int | None = None
        self.held_back_since: float | None = None

    def _accept_connection(  # type: ignore[override]
        self,
        protocol_factory: Any,
        sock: Any,
        sslcontext: Any = None,
        server: Any = None,
        backlog: int = 100,
        *args: Any,
    ) -> None:
        # `backlog` is only the number of accept() calls made here; the listen
        # queue itself was sized before (Server._start_serving) and stays as is.
        accept = (protocol_factory, sock, sslcontext, server, 1, *args)
        if self.my_turn():
            self.held_back_since = None
            super()._accept_connection(*accept)  # type: ignore[misc]
        # Stop watching the socket meanwhile: it stays readable while connections
        # wait, and they may be another process's to take.
        self._remove_reader(sock.fileno())  # type: ignore[attr-defined]
        self.call_later(ACCEPT_PAUSE, self._watch_again, accept)

    def my_turn(self) -> bool:
        if self.slot is None:  # claimed once serving: a booting process has none
            self.slot = self.table.claim(os.getpid())
            if self.slot is None:
                return True
        held = self.held()
        self.table.publish(self.slot, held)
        if takes_next(held, self.table.others(self.slot)):
            return True
        now = self.time()
        if self.held_back_since is None:
            self.held_back_since = now
        return now - self.held_back_since >= ACCEPT_WAIT_MAX

    def _watch_again(self, accept: tuple[Any, ...]) -> None:
        sock, server = accept[1], accept[3]
        if sock.fileno() < 0 or (server is not None and not server.is_serving()):
            self.leave()  # the server was closed meanwhile: shutting down
            return
        self._add_reader(sock.fileno(), self._accept_connection, *accept)  # type: ignore[attr-defined]

    def leave(self) -> None:
        """Take this process out of the table (it accepts no more connections)."""
        if self.slot is not None:
            self.table.release(self.slot, os.getpid())
            self.slot = None


class Worker(ASGIWorker):
    """gunicorn's asgi worker on a SharingLoop."""

    loop: SharingLoop

    def _setup_event_loop(self) -> None:
        self.loop = SharingLoop(lambda: self.nr_conns)
        asyncio.set_event_loop(self.loop)

    def run(self) -> None:
        try:
            super().run()
        finally:
            with contextlib.suppress(Exception):
                self.loop.leave()
