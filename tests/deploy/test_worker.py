"""hcserver/worker.py: the web role's gunicorn worker deals connections out between
its processes."""

import asyncio
import os
import socket
import subprocess
import sys
import threading

import pytest

from bench.accept_split import ask, hello_gunicorn
from bench.ping import connections_per_worker
from hcserver import worker
from hcserver.worker import ConnectionTable, SharingLoop, share


@pytest.mark.parametrize(
    ("mine", "others", "takes"),
    [
        (5, [], 2),
        (0, [0, 3], 1),
        (0, [7], 2),
        (1, [0, 3], 0),
        (4, [2], 0),
    ],
    ids=[
        "alone: two at a time",
        "as many as the fewest: one more",
        "far behind: still two at a time",
        "one more than the fewest: none",
        "further ahead: none",
    ],
)
def test_a_process_takes_connections_up_to_one_more_than_the_fewest(
    mine, others, takes
):
    assert share(mine, others) == takes


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_processes_get_slots_of_their_own():
    table = ConnectionTable(slots=4)
    assert table.claim(os.getpid()) != table.claim(os.getppid())


def test_claiming_again_frees_another_slot_under_the_same_pid():
    table = ConnectionTable(slots=4)
    pid = os.getpid()
    table.cells[2 * 3] = pid  # left by a dead process whose pid came back
    assert table.claim(pid) == 0
    assert [table.cells[2 * slot] for slot in range(4)] == [pid, 0, 0, 0]


def test_without_the_lock_a_process_goes_without_a_slot(monkeypatch):
    monkeypatch.setattr(worker, "LOCK_WAIT", 0.01)
    table = ConnectionTable(slots=4)
    table.lock.acquire()  # as if its holder had been killed
    assert table.claim(os.getpid()) is None


def test_a_slot_a_dead_process_left_is_claimed_again():
    table = ConnectionTable(slots=1)
    table.claim(dead_pid())
    assert table.claim(os.getpid()) == 0


def test_a_process_sees_what_the_others_hold():
    table = ConnectionTable(slots=4)
    mine, parent = table.claim(os.getpid()), table.claim(os.getppid())
    table.publish(mine, 3)
    table.publish(parent, 5)
    assert table.others(mine) == [5]


def test_a_dead_process_is_not_among_the_others():
    table = ConnectionTable(slots=4)
    mine, dead = table.claim(os.getpid()), table.claim(dead_pid())
    table.publish(dead, 0)
    assert table.others(mine) == []


def test_a_released_slot_is_not_among_the_others():
    table = ConnectionTable(slots=4)
    mine, parent = table.claim(os.getpid()), table.claim(os.getppid())
    table.release(parent, os.getppid())
    assert table.others(mine) == []


@pytest.fixture
def two_workers(tmp_path):
    """gunicorn with two hcserver.worker.Worker processes: (master pid, port)."""
    with hello_gunicorn(2, tmp_path / "gunicorn.log") as server:
        yield server


@pytest.mark.slow
def test_keep_alive_connections_opened_together_are_dealt_out(two_workers):
    master, port = two_workers
    # One connection first: both processes take their place in the table.
    with socket.create_connection(("127.0.0.1", port)) as first:
        ask(first)
    together = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
    try:
        for connection in together:
            ask(connection)
        held = connections_per_worker(master, port)
    finally:
        for connection in together:
            connection.close()
    assert sum(held) == 8
    assert max(held) - min(held) <= 2


@pytest.fixture
def loop_beside_a_lighter_process():
    """A SharingLoop holding 5 connections while another live process holds none."""
    table = ConnectionTable(slots=4)
    table.publish(table.claim(os.getppid()), 0)
    loop = SharingLoop(lambda: 5, table)
    loop.slot = table.claim(os.getpid())
    yield loop, table
    loop.close()


def test_a_process_ahead_is_held_back(loop_beside_a_lighter_process):
    loop, _ = loop_beside_a_lighter_process
    assert loop.turn() == 0


def test_a_process_held_back_for_accept_wait_max_takes_one(
    loop_beside_a_lighter_process, monkeypatch
):
    loop, _ = loop_beside_a_lighter_process
    clock = [1000.0]
    monkeypatch.setattr(loop, "time", lambda: clock[0])
    assert loop.turn() == 0
    taken = 0
    while not taken and clock[0] < 1001.0:
        clock[0] += worker.ACCEPT_PAUSE  # looking again after each pause
        taken = loop.turn()
    assert taken == 1
    assert clock[0] - 1000.0 == pytest.approx(worker.ACCEPT_WAIT_MAX, abs=0.001)


def test_a_process_that_stops_serving_leaves_the_table(loop_beside_a_lighter_process):
    loop, table = loop_beside_a_lighter_process
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        loop._stop_serving(listening)
    assert table.others(table.claim(os.getppid())) == []


class Counted(asyncio.Protocol):
    """A protocol counting its connections in and out, as gunicorn's does, and
    noting what its loop counts in all just after it counted itself in."""

    held = 0
    loop: SharingLoop | None = None
    seen: list[int] = []

    transports: list[asyncio.BaseTransport] = []

    def connection_made(self, transport) -> None:
        Counted.transports.append(transport)
        Counted.held += 1
        if Counted.loop is not None:
            Counted.seen.append(Counted.loop.holding())

    def connection_lost(self, exc) -> None:
        Counted.held -= 1


def run_briefly(loop: asyncio.AbstractEventLoop) -> None:
    """Let `loop` run what is scheduled, on a thread of its own: this one may have a
    running loop already (Playwright's, from the browser tests)."""
    runner = threading.Thread(
        target=lambda: loop.run_until_complete(asyncio.sleep(0.01))
    )
    runner.start()
    runner.join(30)


@pytest.fixture
def serving_loop():
    """A SharingLoop beside another process holding 5, its listening socket, and a
    client connection waiting to be accepted."""
    table = ConnectionTable(slots=4)
    table.publish(table.claim(os.getppid()), 5)
    Counted.held = 0
    loop = SharingLoop(lambda: Counted.held, table)
    Counted.loop, Counted.seen, Counted.transports = loop, [], []
    loop.slot = table.claim(os.getpid())
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        listening.setblocking(False)
        with socket.create_connection(listening.getsockname()) as client:
            yield loop, table, listening, client
            run_briefly(loop)  # what was accepted starts
            for transport in Counted.transports:
                transport.close()
            run_briefly(loop)
    loop.close()


def mine_in(table: ConnectionTable) -> list[int]:
    """What this process holds, as the other process (the parent's slot) sees it."""
    return table.others(table.claim(os.getppid()))


def refused() -> asyncio.Protocol:
    raise RuntimeError("no protocol")  # asyncio gives the connection up


def test_an_accepted_connection_is_in_the_table_before_its_protocol_starts(
    serving_loop,
):
    loop, table, listening, _ = serving_loop
    loop._accept_connection(Counted, listening)
    assert Counted.held == 0  # the protocol starts at the loop's next turns
    assert mine_in(table) == [1]


def test_a_started_connection_is_counted_once_as_it_starts_and_after(serving_loop):
    loop, table, listening, _ = serving_loop
    loop._accept_connection(Counted, listening)
    run_briefly(loop)
    assert Counted.seen == [1]  # just after gunicorn's count took it in
    assert Counted.held == 1
    assert mine_in(table) == [1]


def test_a_closed_connection_leaves_the_table_at_once(serving_loop):
    loop, table, _, _ = serving_loop
    web = object.__new__(worker.Worker)  # gunicorn's counting, without its process
    web.loop = loop
    loop.held = lambda: web.nr_conns
    web.nr_conns = 3
    loop.publish()
    web.nr_conns -= 1
    assert mine_in(table) == [2]


# asyncio leaves the socket of a connection it gave up to the garbage collector.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_connection_that_never_starts_leaves_the_table(serving_loop):
    loop, table, listening, _ = serving_loop
    loop._accept_connection(refused, listening)
    run_briefly(loop)
    assert not loop.starting
    assert mine_in(table) == [0]
