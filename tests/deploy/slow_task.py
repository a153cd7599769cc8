"""A task for the worker shutdown test: marks when it starts and when it finishes."""

import time
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.slow_write", acks_late=True, ignore_result=True)
def slow_write(directory: str, seconds: float) -> None:
    """Write `started`, sleep, write `done`."""
    Path(directory, "started").write_text("1")
    time.sleep(seconds)
    Path(directory, "done").write_text("1")
