"""A small Procfile runner: `release` once, then every other process until Ctrl-C.

Usage: python deploy/procfile.py [deploy/Procfile]. Output lines are prefixed with the
process name. SIGINT/SIGTERM stop every process with SIGTERM (gunicorn and Celery shut
down gracefully), then SIGKILL after STOP_TIMEOUT seconds. If one process exits on its
own, the others are stopped too and the runner exits non-zero.
"""

from __future__ import annotations

import ctypes
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

# Longer than a Celery warm shutdown needs to finish a delivery.
STOP_TIMEOUT = float(os.environ.get("STOP_TIMEOUT", "65"))
REQUIRED = ("DATABASE_URL", "REDIS_URL")
PR_SET_PDEATHSIG = 1


def read_procfile(path: Path) -> list[tuple[str, str]]:
    entries = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, command = line.partition(":")
        entries.append((name.strip(), command.strip()))
    return entries


def _die_with_runner() -> None:
    # Linux: if the runner itself is killed (SIGKILL), its children get SIGTERM
    # instead of running on orphaned.
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _pump(name: str, stream: IO[bytes], width: int) -> None:
    for raw in iter(stream.readline, b""):
        text = raw.decode(errors="replace").rstrip("\n")
        sys.stdout.write(f"{name:<{width}} | {text}\n")
        sys.stdout.flush()


class Runner:
    def __init__(self, entries: list[tuple[str, str]]) -> None:
        self.entries = entries
        self.width = max(len(name) for name, _ in entries)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = threading.Event()

    def _spawn(self, name: str, command: str) -> subprocess.Popen[bytes]:
        # Own session: Ctrl-C reaches only the runner, which stops children in order.
        proc = subprocess.Popen(  # noqa: S603 - commands come from the Procfile
            shlex.split(command),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_runner,  # children die with the runner
        )
        assert proc.stdout is not None  # noqa: S101 - stdout=PIPE
        threading.Thread(
            target=_pump, args=(name, proc.stdout, self.width), daemon=True
        ).start()
        return proc

    def release(self) -> int:
        for name, command in self.entries:
            if name == "release":
                code = self._spawn(name, command).wait()
                if code:
                    return code
        return 0

    def start(self) -> None:
        for name, command in self.entries:
            if name != "release":
                self.procs[name] = self._spawn(name, command)
                self.say(f"started {name} (pid {self.procs[name].pid})")

    def say(self, text: str) -> None:
        sys.stdout.write(f"{'runner':<{self.width}} | {text}\n")
        sys.stdout.flush()

    def stop(self) -> None:
        self.stopping.set()
        for name, proc in self.procs.items():
            if proc.poll() is None:
                self.say(f"stopping {name}")
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{name} did not stop in {STOP_TIMEOUT:.0f} s: killing it")
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def wait(self) -> int:
        """Until a signal or until one process exits; the runner's exit code."""
        while not self.stopping.is_set():
            for name, proc in self.procs.items():
                code = proc.poll()
                if code is not None:
                    self.say(f"{name} exited with code {code}: stopping the others")
                    self.stop()
                    return code or 1
            self.stopping.wait(0.2)
        return 0


def main() -> int:
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        print(
            f"prod-local needs {' and '.join(missing)} (PostgreSQL and Redis), e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/hc "
            "REDIS_URL=redis://127.0.0.1:6379/0 SECRET_KEY=... make prod-local",
            file=sys.stderr,
        )
        return 2
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/Procfile")
    runner = Runner(read_procfile(path))
    code = runner.release()
    if code:
        return code
    stop_requested = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop_requested.set()
        runner.stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    runner.start()
    code = runner.wait()
    if stop_requested.is_set():
        runner.stop()
        runner.say("all stopped")
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
