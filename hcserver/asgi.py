"""ASGI entry point of the `web` role: gunicorn's asgi worker (deploy/gunicorn.conf.py).

Pings are read and answered on the event loop; everything else is the WSGI
application (hcserver.wsgi) run in threads, so every answer is still Django's:

- a ping URL is read whole, up to PING_BODY_LIMIT bytes (the rest is read and
  dropped: the ping view would keep only those). The ping handler
  (checks/ping_handler.py) checks it, the process's group commit
  (checks/group_commit.py, AsyncGroupCommit) records it on its own thread, and the
  `OK` is written here with the headers Django's middleware gives it. A ping that is
  not a plain success of that kind (an unknown check, a bad request, `?create=1` for
  a new slug, a failed batch ...) is answered by the ping handler's Django road in a
  thread, with nothing written before;
- any other path (dashboard, API, badges, static files, /health/) goes through
  a2wsgi's WSGI bridge, which runs Django in a thread and streams request and answer
  bodies.

Threads: GUNICORN_THREADS run Django (the bridge, and pings on the Django road), one
records pings; each holds its own database connection when it uses one.
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import build_environ
from django.conf import settings
from django.core.handlers.wsgi import get_path_info
from django.db import connections
from django.utils import timezone

from hcserver import wsgi

wsgi_application = wsgi.application  # Django is set up from here on

from checks.group_commit import AsyncGroupCommit  # noqa: E402
from checks.models import PingKind  # noqa: E402
from checks.ping_handler import (  # noqa: E402
    OK,
    PREFIX,
    ROUTE_KEY,
    PingHandler,
    Together,
    match_ping_url,
)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]

THREADS = int(os.environ.get("GUNICORN_THREADS", "") or 8)


class Application:
    """Pings on the event loop and the group commit; the rest through a2wsgi."""

    def __init__(self, handler: PingHandler, threads: int = THREADS) -> None:
        self.handler = handler
        self.threads = threads
        self.closed = False
        self.group = AsyncGroupCommit()
        self.other = WSGIMiddleware(handler, workers=threads)  # type: ignore[arg-type]
        # Pings on the Django road share the bridge's threads (and connections).
        self.pool = self.other.executor
        # The `OK`'s headers as sent, by request.is_secure(): (second, headers).
        self._ok: dict[bool, tuple[int, list[tuple[bytes, bytes]]]] = {}

    def close(self) -> None:
        """Finish the pings in hand and close every thread's database connection."""
        if self.closed:
            return
        self.closed = True
        self.group.close()
        _on_every_thread(self.pool, self.threads, connections.close_all)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"].startswith(PREFIX):
            status, headers, body = await self.ping(scope, receive)
            await send(
                {"type": "http.response.start", "status": status, "headers": headers}
            )
            await send({"type": "http.response.body", "body": body})
        else:
            await self.other(scope, receive, send)  # type: ignore[arg-type]

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # Requests in flight are over (gunicorn's graceful shutdown).
                await asyncio.get_running_loop().run_in_executor(None, self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def ping(self, scope: Scope, receive: Receive) -> Answer:
        body = await _read_body(receive, settings.PING_BODY_LIMIT)
        environ = cast(dict[str, Any], build_environ(scope, io.BytesIO(body)))  # type: ignore[arg-type]
        found = match_ping_url(get_path_info(environ))
        loop = asyncio.get_running_loop()
        if found is None:  # under /ping/ but no ping URL: Django's 404
            return await loop.run_in_executor(
                self.pool, _call_wsgi, self.handler, environ
            )
        environ[ROUTE_KEY] = found
        together = self.handler.prepare(environ, found)
        if together is not None:
            result = await self.group.record(
                together.target, together.data, timezone.now()
            )
            if isinstance(result, PingKind):
                return 200, self.ok_headers(together), OK
        return await loop.run_in_executor(
            self.pool, _call_wsgi, self.handler.django_road, environ
        )

    def ok_headers(self, together: Together) -> list[tuple[bytes, bytes]]:
        """The headers of an `OK`, built and encoded once a second (the only one
        that changes, Expires, counts whole seconds)."""
        second = int(time.time())
        secure = together.request.is_secure()
        cached = self._ok.get(secure)
        if cached is None or cached[0] != second:
            status, headers = self.handler.ok_answer(together, second)
            assert status == "200 OK"  # noqa: S101 - what the ping view answers
            cached = self._ok[secure] = second, _asgi_headers(headers)
        return list(cached[1])


async def _read_body(receive: Receive, limit: int | None) -> bytes:
    """The request body, cut at `limit` bytes; the rest is read and dropped."""
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if limit is None or size < limit:
            keep = chunk if limit is None else chunk[: limit - size]
            parts.append(keep)
            size += len(keep)
        if not message.get("more_body"):
            break
    return b"".join(parts)


def _call_wsgi(app: Callable[..., Any], environ: dict[str, Any]) -> Answer:
    """Run a WSGI application for one ping (in a thread): status, headers, body."""
    answer: dict[str, Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> None:
        answer["status"], answer["headers"] = status, headers

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return int(answer["status"][:3]), _asgi_headers(answer["headers"]), body


def _asgi_headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin1"), v.encode("latin1")) for k, v in headers]


def _on_every_thread(
    pool: ThreadPoolExecutor, size: int, work: Callable[[], Any]
) -> None:
    """Run `work` once on each of the pool's `size` threads (each waits for all the
    others, so no thread takes two), then let the pool's threads end."""
    barrier = threading.Barrier(size)

    def each() -> None:
        barrier.wait(timeout=30)
        work()

    for done in [pool.submit(each) for _ in range(size)]:
        done.result()
    pool.shutdown(wait=True)


application = Application(wsgi_application)
