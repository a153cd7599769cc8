"""Drill: after a database outage, no check goes down for pings it could not send.

    .venv/bin/python -m bench.drills.outage_guard [--outage 10]

Own PostgreSQL (stopped and started here) and own Redis. Checks with a 4 s timeout and
2 s grace are pinged every second by clients that keep trying through the outage;
the outage is longer than timeout + grace, so every one of their deadlines falls
inside it. One control check is pinged once and never again. Passes when none of the
pinged checks is declared down (no flip to down, no alert) after the database is back,
while the control check still goes down and is alerted, no sooner than
ALERT_OUTAGE_GRACE after the restart (the guard acted, and it only delays).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

import psycopg2

from bench.drills.common import PingStream, Receiver, Service, Verdict, query
from bench.processes import OwnPostgres, OwnRedis, http_status, wait_for


def run(
    *,
    outage: float = 10.0,
    pinged: int = 5,
    timeout: float = 4.0,
    grace: float = 2.0,
    outage_grace: float = 10.0,
    settle: float = 8.0,
    before: float = 2.0,
) -> Verdict:
    verdict = Verdict("no false down alerts after a database outage")
    postgres = OwnPostgres()
    postgres.init()
    postgres.start()
    admin = psycopg2.connect(postgres.url())
    admin.autocommit = True
    admin.cursor().execute("CREATE DATABASE hc_drill")
    admin.close()
    database_url = postgres.url("hc_drill")
    own_redis = OwnRedis(Path(tempfile.mkdtemp(prefix="hc-redis-")))
    own_redis.start()
    receiver = Receiver()
    service = Service(
        database_url,
        own_redis.url,
        ALERT_SCAN_INTERVAL="1",
        ALERT_REQUEUE_INTERVAL="2",
        ALERT_OUTAGE_AFTER="3",
        ALERT_OUTAGE_GRACE=str(outage_grace),
    )
    try:
        service.migrate()
        codes = service.create_checks(receiver.url, pinged + 1, timeout, grace, "cron")
        control = codes.pop()  # pinged once, then silent
        service.start_all("web", "worker", "beat")
        control_ping = http_status(f"{service.base}/ping/{control}", timeout=30)
        verdict.expect(control_ping == 200, f"control ping answered {control_ping}")
        stream = PingStream(service.base, codes, threads=pinged, pause=1.0)
        stream.start()
        time.sleep(before)
        postgres.stop("fast")
        stopped_at = time.monotonic()
        time.sleep(outage)
        postgres.start()
        restarted_at = time.monotonic()
        # The control check's deadline fell in the outage too: it gets the grace.
        control_alerted = None
        with contextlib.suppress(TimeoutError):
            wait_for(
                lambda: control in receiver.count("/down/"),
                outage_grace + 30,
                "control alert",
            )
            control_alerted = time.monotonic() - restarted_at
        time.sleep(settle)
        stream.stop()
        down = {
            str(row[0])
            for row in query(
                database_url,
                "SELECT c.code FROM checks_flip f JOIN checks_check c "
                "ON c.id = f.owner_id WHERE f.new_status = 'down'",
            )
        }
        alerted = receiver.count("/down/")
        failed = sum(1 for r in stream.results if r[3] != 200)
        verdict.figures.update(
            {
                "outage (s)": round(restarted_at - stopped_at, 1),
                "deadline of the pinged checks (timeout + grace, s)": timeout + grace,
                "pings refused during the outage": failed,
                "pinged checks declared down": len(down & set(codes)),
                "false down alerts": len(set(alerted) & set(codes)),
                "control check down and alerted": control in down
                and control in alerted,
                "control alert after the restart (s)": None
                if control_alerted is None
                else round(control_alerted, 1),
            }
        )
        verdict.expect(failed > 0, "no ping was refused: the outage was not observed")
        verdict.expect(not down & set(codes), "a pinged check was declared down")
        verdict.expect(not set(alerted) & set(codes), "a false down alert was sent")
        verdict.expect(control in alerted, "the silent control check never alerted")
        # Its deadline fell in the outage too: the guard gives it the grace first.
        # (PostgreSQL accepts connections a little before pg_ctl returns.)
        verdict.expect(
            control_alerted is None or control_alerted >= outage_grace - 1,
            "the control check went down before the outage grace ran out",
        )
    finally:
        service.stop()
        own_redis.stop()
        receiver.stop()
        postgres.destroy()
    return verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage", type=float, default=10.0)
    args = parser.parse_args()
    run(outage=args.outage).exit()


if __name__ == "__main__":
    main()
