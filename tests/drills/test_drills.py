"""The fault drills of bench/drills, run short: each must print a passing verdict.

Own PostgreSQL and Redis instances on ephemeral ports; the shared servers are only
used for scratch databases.
"""

import pytest

from bench.drills import outage_guard, postgres_restart, redis_restart, worker_killed

pytestmark = pytest.mark.slow


def test_postgres_restart_loses_no_acknowledged_ping():
    verdict = postgres_restart.run(outage=3, threads=4, before=2, after=3, checks=12)
    assert verdict.passed, verdict.report()


@pytest.mark.postgres
def test_redis_restart_keeps_pings_and_delivers_every_alert():
    verdict = redis_restart.run(outage=4, falling=4, steady=4)
    assert verdict.passed, verdict.report()


@pytest.mark.postgres
def test_killed_worker_alerts_are_delivered_by_the_next_worker():
    verdict = worker_killed.run(checks=4, delay=2)
    assert verdict.passed, verdict.report()


def test_database_outage_declares_no_pinged_check_down():
    verdict = outage_guard.run(
        outage=5, timeout=2, grace=2, outage_grace=4, settle=2, before=1
    )
    assert verdict.passed, verdict.report()
