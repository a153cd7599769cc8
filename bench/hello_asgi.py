"""A minimal ASGI application: the gunicorn worker's tests (tests/deploy/test_worker.py)
and bench/accept_split.py serve it."""


async def app(scope, receive, send):
    if scope["type"] != "http":
        return  # no lifespan support: gunicorn goes on without it
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": b"OK"})
