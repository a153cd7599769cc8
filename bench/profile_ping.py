"""Time and profile pings in-process through hcserver.wsgi.application, without HTTP.

    DATABASE_URL=postgres://.../hc_deploy_bench .venv/bin/python -m bench.profile_ping \
        [--pings 2000] [--profile] [--sort tottime]

Needs a database with checks in it (`bench/ping.py --keep` leaves one). Prints pings/s
of one thread, wall and CPU time per ping, the SQL statements of one ping and, with
--profile, the top of a cProfile of 1000 pings.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pings", type=int, default=2000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hcserver.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from checks.models import Check
    from hcserver.wsgi import application

    codes = list(Check.objects.values_list("code", flat=True)[:200])
    # The production entry point: ping URLs go through checks/ping_handler.py.
    app = application

    def call(path: str) -> str:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        status: list[str] = []
        response = app(environ, lambda s, h: status.append(s))
        b"".join(response)
        if hasattr(response, "close"):  # WSGI: an iterable, closed if it can be
            response.close()
        return status[0]

    for code in codes[:20]:
        call(f"/ping/{code}")
    with CaptureQueriesContext(connection) as queries:
        call(f"/ping/{codes[0]}")
    print("SQL of one ping:")
    for query in queries.captured_queries:
        print("  ", query["sql"][:110])

    started, cpu = time.perf_counter(), time.process_time()
    for i in range(args.pings):
        call(f"/ping/{codes[i % len(codes)]}")
    wall = (time.perf_counter() - started) / args.pings
    cpu = (time.process_time() - cpu) / args.pings
    print(
        f"{1 / wall:.0f} pings/s in one thread: {wall * 1000:.2f} ms wall, "
        f"{cpu * 1000:.2f} ms CPU per ping"
    )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for i in range(1000):
            call(f"/ping/{codes[i % len(codes)]}")
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(30)
        print(out.getvalue())


if __name__ == "__main__":
    main()
