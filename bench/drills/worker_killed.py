"""Drill: a Celery worker killed (SIGKILL, with its pool processes) during deliveries.

    .venv/bin/python -m bench.drills.worker_killed [--checks 6] [--delay 3]

A scratch database on DATABASE_URL's server, own Redis. Checks go down at once; the
webhook receiver answers each alert only after --delay seconds, so deliveries are in
flight when the worker is killed. A new worker is started. Passes when every check's
down alert is delivered afterwards and every notification ends `sent`; duplicates (the
crash window between sending and recording it) are counted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.drills.common import Receiver, Service, Verdict, query
from bench.processes import (
    OwnRedis,
    drop_database,
    http_status,
    scratch_database_url,
    wait_for,
)


def run(
    *, checks: int = 6, delay: float = 3.0, deliver_within: float = 90.0
) -> Verdict:
    verdict = Verdict("Celery worker killed during deliveries")
    receiver = Receiver(delay=delay)
    own_redis = OwnRedis(Path(tempfile.mkdtemp(prefix="hc-redis-")))
    own_redis.start()
    base = os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hc_deploy"
    )
    name = urlsplit(base).path[1:] or "hc"
    database_url = scratch_database_url(base, f"{name}_drill_worker")
    service = Service(
        database_url,
        own_redis.url,
        ALERT_SCAN_INTERVAL="1",
        ALERT_REQUEUE_INTERVAL="1",
        ALERT_REQUEUE_AFTER="3",
        # A delivery "sending" this long is presumed lost with its worker.
        ALERT_SENDING_TIMEOUT=str(int(delay * 2 + 2)),
    )
    try:
        service.migrate()
        codes = service.create_checks(receiver.url, checks, 1, 1, prefix="killed")
        service.start_all("web", "worker", "beat")
        first = [http_status(f"{service.base}/ping/{c}", timeout=30) for c in codes]
        verdict.expect(set(first) == {200}, f"first pings answered {first}")
        wait_for(lambda: receiver.arrived >= 1, 60, "first delivery")
        sending = query(
            database_url,
            "SELECT count(*) FROM checks_notification WHERE state = 'sending'",
        )[0][0]
        service.kill("worker")
        killed_at = time.monotonic()
        arrived_at_kill = receiver.arrived
        service.start("worker", name="worker2")

        def all_sent() -> bool:
            rows = query(
                database_url,
                "SELECT count(*) FILTER (WHERE state = 'sent'), count(*) "
                "FROM checks_notification",
            )[0]
            return rows[0] == rows[1] == checks and set(
                receiver.count("/down/")
            ) >= set(codes)

        with contextlib.suppress(TimeoutError):
            wait_for(all_sent, deliver_within, "all alerts")
        alerted = receiver.count("/down/")
        states = dict(
            query(
                database_url,
                "SELECT state, count(*) FROM checks_notification GROUP BY state",
            )
        )
        verdict.figures.update(
            {
                "checks down": checks,
                "deliveries in flight when killed (state sending)": sending,
                "requests reaching the receiver before the kill": arrived_at_kill,
                "checks alerted": len(set(alerted) & set(codes)),
                "duplicate alerts (crash window)": sum(
                    n - 1 for n in alerted.values() if n > 1
                ),
                "all delivered within (s) of the kill": round(
                    time.monotonic() - killed_at, 1
                ),
                "notification states": states,
            }
        )
        verdict.expect(sending > 0, "no delivery was in flight when the worker died")
        verdict.expect(all_sent(), "some alerts were not delivered after the kill")
    finally:
        service.stop()
        own_redis.stop()
        receiver.stop()
        drop_database(database_url)
    return verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=6)
    parser.add_argument("--delay", type=float, default=3.0)
    args = parser.parse_args()
    run(checks=args.checks, delay=args.delay).exit()


if __name__ == "__main__":
    main()
