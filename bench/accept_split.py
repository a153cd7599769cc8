"""How gunicorn's web processes share keep-alive connections that open together.

A keep-alive connection stays with the process that accepted it, so how a load's
connections fall out between the processes decides how much of the machine serves
them (docs/performance.md). This starts gunicorn with the web role's worker class
(hcserver/worker.py) serving a minimal app, then, round after round, opens
`--connections` connections at once, each sending requests back to back as a load
tester's do, and counts the connections each process holds.

    .venv/bin/python -m bench.accept_split [--rounds 40] [--connections 8] [--workers 2]

Prints how often each split was seen; no database or Redis needed.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from bench.ping import connections_per_worker
from bench.processes import ROOT, free_port, role_env, wait_for


@contextlib.contextmanager
def hello_gunicorn(workers: int, log: Path) -> Iterator[tuple[int, int]]:
    """gunicorn with `workers` processes of the web role's worker class serving
    bench/hello_asgi.py, logging to `log`: (master pid, port)."""
    port = free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--worker-class",
                "hcserver.worker.Worker",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "bench.hello_asgi:app",
            ],
            cwd=ROOT,
            env=role_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(
            lambda: log.read_text().count("ASGI server listening") == workers,
            30,
            f"{workers} gunicorn workers",
        )
        yield server.pid, port
    finally:
        server.terminate()
        server.wait(30)


def ask(connection: socket.socket) -> bytes:
    """One request to bench/hello_asgi.py on a kept-alive connection; its answer."""
    connection.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
    connection.settimeout(30)
    answer = b""
    while not answer.endswith(b"\r\n\r\nOK"):
        part = connection.recv(4096)
        if not part:
            raise ConnectionError(f"connection closed after {answer!r}")
        answer += part
    return answer


def _load(port: int, opened: threading.Barrier, stop: threading.Event) -> None:
    """One client: connect when the others do, then request until told to stop."""
    opened.wait()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        while not stop.is_set():
            ask(connection)


def one_round(master: int, port: int, connections: int, settle: float) -> list[int]:
    opened = threading.Barrier(connections)
    stop = threading.Event()
    clients = [
        threading.Thread(target=_load, args=(port, opened, stop), daemon=True)
        for _ in range(connections)
    ]
    for client in clients:
        client.start()
    time.sleep(settle)
    split = connections_per_worker(master, port)
    stop.set()
    for client in clients:
        client.join(30)
    # The processes count the closed connections out before the next round.
    wait_for(lambda: sum(connections_per_worker(master, port)) == 0, 30, "closing")
    return split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--settle", type=float, default=0.5, help="seconds")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        hello_gunicorn(args.workers, Path(tmp) / "gunicorn.log") as (master, port),
    ):
        splits = collections.Counter(
            "/".join(map(str, one_round(master, port, args.connections, args.settle)))
            for _ in range(args.rounds)
        )
    print(
        f"{args.connections} connections opened together on {args.workers} processes, "
        f"{args.rounds} rounds"
    )
    for split, seen in splits.most_common():
        print(f"  {split:>12}  {seen:4d} rounds  ({seen / args.rounds:.0%})")


if __name__ == "__main__":
    main()
