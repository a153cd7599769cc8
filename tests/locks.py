"""A row locked by another connection, for tests of what waits and what does not."""

import threading

from django.db import connections, transaction
from django.db.models import Model


class Held:
    """`row` locked (SELECT ... FOR UPDATE) by another thread's connection until
    release(), or for `timeout` seconds at most."""

    def __init__(self, row: Model, timeout: float = 30.0) -> None:
        self.row = row
        self.timeout = timeout
        self.locked = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._hold)
        self.thread.start()
        assert self.locked.wait(10)

    def _hold(self) -> None:
        try:
            with transaction.atomic():
                type(self.row).objects.select_for_update().get(pk=self.row.pk)
                self.locked.set()
                self.done.wait(self.timeout)
        finally:
            connections.close_all()

    def release(self) -> None:
        self.done.set()
        self.thread.join(10)
