"""The `web` role's gunicorn worker: gunicorn's asgi worker, sharing connections out.

gunicorn's worker processes share one listening socket. The asgi worker serves it
through asyncio, which accepts every connection waiting there (up to 100) each time
the socket turns readable. Clients that open several keep-alive connections at once
(a reverse proxy's pool of upstream connections, a load tester) then all land in the
process that woke first, and stay there: it does the work of all while the others
idle. Measured with 8 wrk connections on 2 processes (docs/performance.md): 8/0 in
half the runs, with a third fewer pings/s than 4/4.

This worker deals connections out instead. Each process publishes how many
connections it holds in a table shared by the processes gunicorn forks, from the
moment it starts serving, and updates it as it accepts a connection (before the
connection's protocol starts) and as one closes. When the socket turns readable, a
process takes as many waiting connections as keep it at most one above the process
that holds fewest (`share`, TAKE_MAX at most), or none if it is already there, and
leaves the rest in the listen queue for the others. Then it leaves the socket alone
for ACCEPT_PAUSE, which gives the other processes time to take their share. A
process that has been held back for ACCEPT_WAIT_MAX takes a connection anyway, so a
stalled process never stops the others; a process leaves the table when it stops
serving. bench/accept_split.py counts how connections opened together fall out.

One process takes at most TAKE_MAX connections per turn of ACCEPT_PAUSE (the event
loop's timers have a resolution of about 1 ms): some two thousand new connections
per second and process, more than it can answer pings on. With gunicorn's
`reuse_port` each process has a listening socket of its own, which the kernel deals
out, and this worker serves it as gunicorn's does. The event loop is asyncio's own
(gunicorn's `asgi_loop` setting does not apply; uvloop measured no faster).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import os
from collections.abc import Callable, Iterator
from typing import Any

from gunicorn.workers.gasgi import ASGIWorker

# Seconds a process leaves the listening socket alone after each look at it.
ACCEPT_PAUSE = 0.0005
# Seconds a process leaves a waiting connection to the others at most.
ACCEPT_WAIT_MAX = 0.05
# Worker processes that take part at most (beyond that, a process accepts freely).
SLOTS = 64
# Connections a process takes at most per look at the socket.
TAKE_MAX = 2
# Seconds a process waits for the table's lock (its holder may have been killed).
LOCK_WAIT = 0.01


def share(mine: int, others: list[int]) -> int:
    """How many waiting connections a process holding `mine` takes, when the other
    processes hold `others`: as many as leave it one above the fewest (TAKE_MAX at
    most), none if it is there already."""
    if not others:
        return TAKE_MAX
    return max(0, min(min(others) + 1 - mine, TAKE_MAX))


class ConnectionTable:
    """(pid, connections held) per worker process, in memory shared across fork.

    Created on import: gunicorn's arbiter imports the worker class before it forks
    the workers, so they all see the same table. A process writes only its own slot's
    count; claiming and freeing slots take a lock, and a process that cannot get it
    within LOCK_WAIT goes without the table this time.
    """

    def __init__(self, slots: int = SLOTS) -> None:
        self.slots = slots
        self.cells = multiprocessing.RawArray(ctypes.c_long, 2 * slots)
        self.lock = multiprocessing.Lock()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[bool]:
        got = self.lock.acquire(timeout=LOCK_WAIT)
        try:
            yield got
        finally:
            if got:
                self.lock.release()

    def claim(self, pid: int) -> int | None:
        """A slot for process `pid`: a free one, or one a dead process left. Any
        other slot under the same pid (left by a dead process whose pid was reused)
        is freed."""
        with self._locked() as got:
            if not got:
                return None
            found = None
            for slot in range(self.slots):
                owner = self.cells[2 * slot]
                if owner == pid and found is not None:
                    self.cells[2 * slot], self.cells[2 * slot + 1] = 0, 0
                elif found is None and (
                    owner == 0 or owner == pid or not _alive(owner)
                ):
                    self.cells[2 * slot], self.cells[2 * slot + 1] = pid, 0
                    found = slot
            return found

    def release(self, slot: int, pid: int) -> None:
        with self._locked() as got:
            if got and self.cells[2 * slot] == pid:
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
    """An asyncio loop that takes waiting connections in turns with the other
    processes in `table` (`held` counts the connections this process has)."""

    def __init__(self, held: Callable[[], int], table: ConnectionTable = TABLE):
        super().__init__()
        self.held = held
        self.table = table
        self.slot: int | None = None
        self.held_back_since: float | None = None
        self.last_look = 0.0
        # Connections accepted whose protocol has not started yet, one token each
        # (held() counts them from then on).
        self.starting: set[object] = set()

    def holding(self) -> int:
        """The connections this process has: served, and accepted but starting."""
        return self.held() + len(self.starting)

    def publish(self) -> None:
        """Put what this process holds in the table, as soon as it changes: the
        others decide on it, and this process's next turn may be long in coming."""
        if self.slot is not None:
            self.table.publish(self.slot, self.holding())

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
        take = self.turn()
        fd = sock.fileno()
        if take:
            super()._accept_connection(  # type: ignore[misc]
                protocol_factory, sock, sslcontext, server, take, *args
            )
            self.publish()
            if self._selector.get_map().get(fd) is None:  # type: ignore[attr-defined]
                return  # out of file descriptors: asyncio watches again later
        # Stop watching the socket meanwhile: it stays readable while connections
        # wait, and they may be another process's to take.
        self._remove_reader(fd)  # type: ignore[attr-defined]
        accept = (protocol_factory, sock, sslcontext, server, backlog, *args)
        self.call_later(ACCEPT_PAUSE, self._watch_again, accept)

    def _accept_connection2(
        self, protocol_factory: Callable[[], Any], *args: Any, **kwargs: Any
    ) -> Any:
        # Called at once for each connection accepted; its protocol starts later.
        token = object()
        self.starting.add(token)

        def counted_protocol() -> Any:
            protocol = protocol_factory()
            made = protocol.connection_made

            def connection_made(transport: Any) -> None:
                self.starting.discard(token)  # held() counts it from here
                made(transport)

            protocol.connection_made = connection_made
            return protocol

        accept = super()._accept_connection2(counted_protocol, *args, **kwargs)  # type: ignore[misc]
        return self._started(accept, token)

    async def _started(self, accept: Any, token: object) -> None:
        # A task cancelled before its first step (at shutdown, after leave()) never
        # gets here: its count no longer matters then.
        try:
            await accept
        finally:
            if token in self.starting:  # it never started: asyncio dropped it
                self.starting.discard(token)
                self.publish()

    def turn(self) -> int:
        """How many waiting connections this process takes now."""
        now = self.time()
        if now - self.last_look > ACCEPT_PAUSE + 0.01:
            self.held_back_since = None  # a new wait, not the last one's
        self.last_look = now
        if self.slot is None:  # no slot free, or the lock was not to be had
            self.slot = self.table.claim(os.getpid())
            if self.slot is None:
                return 1
        held = self.holding()
        self.table.publish(self.slot, held)
        take = share(held, self.table.others(self.slot))
        if take:
            self.held_back_since = None
            return take
        if self.held_back_since is None:
            self.held_back_since = now
        if now - self.held_back_since >= ACCEPT_WAIT_MAX:
            self.held_back_since = None
            return 1
        return 0

    def _start_serving(self, *args: Any, **kwargs: Any) -> None:
        # In the table from the moment it serves: the others leave it its share
        # from the first connection on.
        if self.slot is None:
            self.slot = self.table.claim(os.getpid())
        super()._start_serving(*args, **kwargs)  # type: ignore[misc]

    def _watch_again(self, accept: tuple[Any, ...]) -> None:
        sock, server = accept[1], accept[3]
        if sock.fileno() < 0 or (server is not None and not server.is_serving()):
            return  # the server was closed meanwhile
        self._add_reader(sock.fileno(), self._accept_connection, *accept)  # type: ignore[attr-defined]

    def _stop_serving(self, sock: Any) -> None:
        # The server is closing (shutdown, reload, max_requests): this process
        # takes no more connections, so the others must not wait for it.
        self.leave()
        super()._stop_serving(sock)  # type: ignore[misc]

    def leave(self) -> None:
        """Take this process out of the table."""
        if self.slot is not None:
            self.table.release(self.slot, os.getpid())
            self.slot = None


class Worker(ASGIWorker):
    """gunicorn's asgi worker on a SharingLoop (on asyncio's own loop with
    `reuse_port`, where the kernel deals connections out)."""

    _nr_conns = 0

    @property
    def nr_conns(self) -> int:
        return self._nr_conns

    @nr_conns.setter
    def nr_conns(self, value: int) -> None:
        # gunicorn counts each connection in (as its protocol starts, when it
        # leaves the loop's `starting`) and out here: the table follows.
        self._nr_conns = value
        loop = getattr(self, "loop", None)
        if isinstance(loop, SharingLoop):
            loop.publish()

    def _setup_event_loop(self) -> None:
        if self.cfg.reuse_port:
            super()._setup_event_loop()
            return
        self.loop = SharingLoop(lambda: self.nr_conns)
        asyncio.set_event_loop(self.loop)

    def run(self) -> None:
        try:
            super().run()
        finally:
            if isinstance(self.loop, SharingLoop):
                with contextlib.suppress(Exception):
                    self.loop.leave()
