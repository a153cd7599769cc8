"""Drill: PostgreSQL restarted while pings stream in.

    .venv/bin/python -m bench.drills.postgres_restart [--outage 5] [--threads 8]

Runs its own PostgreSQL (initdb + pg_ctl in a temp dir, ephemeral port) so the
shared server is never disturbed, and gunicorn in front of it. Pings stream in from
--threads clients; PostgreSQL is stopped (fast shutdown) for --outage seconds and
started again. Passes when every ping answered 200 is in the database (each ping is
tagged by its User-Agent), every failed ping got a 5xx (never a silent 2xx/4xx),
pings are accepted again after the restart, and /health/ said 503 meanwhile.
"""

from __future__ import annotations

import argparse
import threading
import time

from bench.drills.common import PingStream, Receiver, Service, Verdict, query
from bench.processes import OwnPostgres, http_status


def run(
    *,
    outage: float = 5.0,
    threads: int = 8,
    before: float = 3.0,
    after: float = 5.0,
    checks: int = 40,
) -> Verdict:
    verdict = Verdict("PostgreSQL restarted while pings stream in")
    postgres = OwnPostgres()
    receiver = Receiver()
    postgres.init()
    postgres.start()
    query(postgres.url(), "SELECT 1")
    import psycopg2

    admin = psycopg2.connect(postgres.url())
    admin.autocommit = True
    admin.cursor().execute("CREATE DATABASE hc_drill")
    admin.close()
    database_url = postgres.url("hc_drill")
    service = Service(database_url, "")
    try:
        service.migrate()
        codes = service.create_checks(receiver.url, checks, timeout=3600, grace=3600)
        service.start("web")
        stream = PingStream(service.base, codes, threads)
        stream.start()
        time.sleep(before)
        stopped_at = time.monotonic()
        postgres.stop("fast")
        health_during: list[int] = []
        probe_stop = threading.Event()

        def probe() -> None:
            while not probe_stop.wait(0.5):
                health_during.append(http_status(f"{service.base}/health/", 3))

        prober = threading.Thread(target=probe)
        prober.start()
        time.sleep(outage)
        probe_stop.set()
        prober.join()
        postgres.start()
        restarted_at = time.monotonic()
        time.sleep(after)
        stream.stop()

        results = stream.results
        acked = {tag for _, _, tag, status in results if status == 200}
        stored = {row[0] for row in query(database_url, "SELECT ua FROM checks_ping")}
        lost = acked - stored
        failed = [r for r in results if r[3] != 200]
        statuses: dict[int, int] = {}
        for _, _, _, status in failed:
            statuses[status] = statuses.get(status, 0) + 1
        after_ok = [r for r in results if r[0] > restarted_at and r[3] == 200]
        first_ok_after = min((r[0] for r in after_ok), default=None)
        verdict.figures.update(
            {
                "pings sent": len(results),
                "answered 200": len(acked),
                "200 and in the database": len(acked & stored),
                "200 but missing from the database": len(lost),
                "in the database without a 200 (committed, answer lost)": len(
                    stored - acked
                ),
                "failed, by status (0 = no answer)": statuses or "none",
                "outage (s)": round(restarted_at - stopped_at, 1),
                "first 200 after restart (s)": (
                    round(first_ok_after - restarted_at, 2) if first_ok_after else None
                ),
                "/health/ during outage": sorted(set(health_during)),
            }
        )
        verdict.expect(not lost, f"{len(lost)} acknowledged pings are not stored")
        verdict.expect(
            all(500 <= status < 600 for status in statuses),
            f"failures that were not 5xx: {statuses}",
        )
        verdict.expect(bool(failed), "no ping failed: the outage was not observed")
        verdict.expect(bool(after_ok), "no ping was accepted after the restart")
        verdict.expect(
            bool(health_during) and set(health_during) == {503},
            f"/health/ during the outage answered {sorted(set(health_during))}",
        )
    finally:
        service.stop()
        receiver.stop()
        postgres.destroy()
    return verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--checks", type=int, default=40)
    args = parser.parse_args()
    run(outage=args.outage, threads=args.threads, checks=args.checks).exit()


if __name__ == "__main__":
    main()
