"""Drill: Redis stopped and restarted under a running service.

    .venv/bin/python -m bench.drills.redis_restart [--outage 8]

Own redis-server on an ephemeral port; a scratch database on DATABASE_URL's server.
Runs web, a Celery worker and beat. Some checks (timeout 2 s + grace 1 s) are pinged
once and then stop, so they go down while Redis is away; others are pinged all along.
Passes when every ping during the outage is answered 200 and stored, and every check
that went down has its down alert delivered (webhook to a local receiver) after Redis
is back.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.drills.common import PingStream, Receiver, Service, Verdict, query
from bench.processes import (
    OwnRedis,
    drop_database,
    http_status,
    scratch_database_url,
    wait_for,
)

FAST_ALERTS = {
    "ALERT_SCAN_INTERVAL": "1",
    "ALERT_REQUEUE_INTERVAL": "2",
    "ALERT_REQUEUE_AFTER": "5",
}


def _database_url() -> str:
    base = os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hc_deploy"
    )
    name = urlsplit(base).path[1:] or "hc"
    return scratch_database_url(base, f"{name}_drill_redis")


def run(
    *,
    outage: float = 8.0,
    falling: int = 10,
    steady: int = 10,
    deliver_within: float = 60.0,
) -> Verdict:
    verdict = Verdict("Redis stopped and restarted")
    receiver = Receiver()
    own_redis = OwnRedis(Path(tempfile.mkdtemp(prefix="hc-redis-")))
    own_redis.start()
    database_url = _database_url()
    service = Service(database_url, own_redis.url, **FAST_ALERTS)
    try:
        service.migrate()
        down_codes = service.create_checks(receiver.url, falling, 2, 1, prefix="falls")
        up_codes = service.create_checks(receiver.url, steady, 3600, 3600, prefix="up")
        service.start_all("web", "worker", "beat")
        first = [
            http_status(f"{service.base}/ping/{code}", timeout=30)
            for code in down_codes
        ]
        verdict.expect(set(first) == {200}, f"first pings answered {set(first)}")
        stream = PingStream(service.base, up_codes, threads=4, pause=0.05)
        stream.start()
        own_redis.stop()
        stopped_at = time.monotonic()
        time.sleep(outage)
        own_redis.start()
        restarted_at = time.monotonic()
        time.sleep(2)
        stream.stop()
        during = [r for r in stream.results if stopped_at <= r[0] <= restarted_at]
        acked = {tag for _, _, tag, status in stream.results if status == 200}
        stored = {row[0] for row in query(database_url, "SELECT ua FROM checks_ping")}

        def all_alerted() -> bool:
            return set(receiver.count("/down/")) >= set(down_codes)

        # The verdict below says which were missing.
        with contextlib.suppress(TimeoutError):
            wait_for(all_alerted, deliver_within, "down alerts")
        alerted = receiver.count("/down/")
        delivered_at = time.monotonic()
        states = dict(
            query(
                database_url,
                "SELECT state, count(*) FROM checks_notification GROUP BY state",
            )
        )
        verdict.figures.update(
            {
                "outage (s)": round(restarted_at - stopped_at, 1),
                "pings during outage": len(during),
                "of which 200": sum(1 for r in during if r[3] == 200),
                "200 but missing from the database": len(acked - stored),
                "checks that went down": len(down_codes),
                "with their down alert delivered": len(set(alerted) & set(down_codes)),
                "duplicate alerts": sum(n - 1 for n in alerted.values() if n > 1),
                "alerts done after restart within (s)": round(
                    delivered_at - restarted_at, 1
                ),
                "notification states": states,
                "false alerts for pinged checks": len(set(alerted) & set(up_codes)),
            }
        )
        verdict.expect(bool(during), "no ping was sent during the outage")
        verdict.expect(
            all(r[3] == 200 for r in during), "a ping failed during the outage"
        )
        verdict.expect(not acked - stored, "acknowledged pings are missing")
        verdict.expect(all_alerted(), "some down alerts were never delivered")
        verdict.expect(not set(alerted) & set(up_codes), "alert for a pinged check")
    finally:
        service.stop()
        own_redis.stop()
        receiver.stop()
        drop_database(database_url)
    return verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage", type=float, default=8.0)
    args = parser.parse_args()
    run(outage=args.outage).exit()


if __name__ == "__main__":
    main()
