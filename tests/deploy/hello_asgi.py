"""A minimal ASGI application for tests of the gunicorn worker (hcserver/worker.py)."""


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
