"""Ping throughput on gunicorn + PostgreSQL, beside PostgreSQL's own rate (pgbench).

    .venv/bin/python bench/ping.py [--duration 10] [--connections 8]

Creates a scratch database (`<DATABASE_URL's name>_bench`, default hc_deploy_bench),
migrates it, creates --checks checks, starts the `web` role (gunicorn, settings from
deploy/gunicorn.conf.py; WEB_CONCURRENCY / GUNICORN_THREADS from the environment or
--workers/--threads) and loads it with wrk (Debian package `wrk`; a bounded Python
client otherwise) for three scenarios: GET /ping/<uuid>, GET /ping/<key>/<slug> and POST
/ping/<uuid> with a 10 kB body. Then pgbench runs the equivalent transaction (UPDATE the
check RETURNING n_pings, INSERT the ping) on the same tables with the same number of
clients. Prints pings/s, latency percentiles, pings per committed transaction (the
group commit), the ratio to pgbench and the memory of
each gunicorn worker. Only 127.0.0.1; every phase is bounded by --duration.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.processes import (
    ENTRYPOINT,
    ROOT,
    drop_database,
    free_port,
    http_status,
    role_env,
    run_role,
    scratch_database_url,
    wait_for,
)

SETUP = """
import json
from datetime import timedelta
from django.contrib.auth.models import User
from checks import services
from checks.models import Check
user = User.objects.create_user("bench@localhost", "bench@localhost", "x")
project = services.create_project(owner=user, name="bench")
for i in range({checks}):
    services.create_check(project=project, name=f"job{{i}}", slug=f"job-{{i}}",
                          timeout=timedelta(days=1))
print(json.dumps({{"ping_key": project.ping_key, "codes": [str(c) for c in
      Check.objects.values_list("code", flat=True)]}}))
"""

# The ping path's writes as one transaction, in pgbench's script language.
PGBENCH_SCRIPT = """\\set id random(1, {checks})
BEGIN;
UPDATE checks_check SET last_ping = now(), n_pings = n_pings + 1, status = 'up',
  alert_after = now() + interval '25 hours' WHERE id = :id + {first_id} - 1
  RETURNING n_pings AS n \\gset
INSERT INTO checks_ping (n, owner_id, created, kind, scheme, remote_addr, method, ua,
  body, exitstatus, rid) VALUES (:n, :id + {first_id} - 1, now(), 'success', 'http',
  '127.0.0.1', '{method}', 'wrk', {body}, NULL, NULL);
END;
"""

POST_BODY = b"x" * 10240

WRK_SCRIPT = """
local paths = {{{paths}}}
local i = 0
{setup}
request = function()
  i = i + 1
  return wrk.format(nil, paths[(i % #paths) + 1])
end
"""


def wrk_run(
    base: str,
    paths: list[str],
    duration: int,
    connections: int,
    post_body: bytes | None,
    workdir: Path,
) -> dict:
    setup = ""
    if post_body is not None:
        setup = (
            'wrk.method = "POST"\n'
            f'wrk.body = string.rep("x", {len(post_body)})\n'
            'wrk.headers["Content-Type"] = "text/plain"'
        )
    script = workdir / "ping.lua"
    script.write_text(
        WRK_SCRIPT.format(paths=", ".join(json.dumps(p) for p in paths), setup=setup)
    )
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        timeout=duration + 30,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        return float(m.group(1)) * scale

    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)$", out, re.M)
    return {
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": requests,
        "p50_ms": ms("50"),
        "p90_ms": ms("90"),
        "p99_ms": ms("99"),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def python_run(
    base: str,
    paths: list[str],
    duration: int,
    connections: int,
    post_body: bytes | None,
    workdir: Path,
) -> dict:
    """A bounded keep-alive client: one thread per connection, stops at the deadline."""
    host, port = urlsplit(base).hostname, urlsplit(base).port
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def client(offset: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(host, port, timeout=10)
        mine, bad, i = [], 0, offset
        while time.monotonic() < deadline:
            path = paths[i % len(paths)]
            i += 1
            started = time.perf_counter()
            if post_body is None:
                conn.request("GET", path)
            else:
                conn.request("POST", path, body=post_body)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            bad += response.status >= 300
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [
        threading.Thread(target=client, args=(n * 7,)) for n in range(connections)
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    q = statistics.quantiles(latencies, n=100)
    return {
        "rate": len(latencies) / elapsed,
        "requests": len(latencies),
        "p50_ms": q[49],
        "p90_ms": q[89],
        "p99_ms": q[98],
        "errors": errors,
        "socket_errors": "",
    }


def pgbench_run(
    url: str,
    checks: int,
    first_id: int,
    duration: int,
    clients: int,
    workdir: Path,
    body: bytes | None = None,
) -> dict:
    """PostgreSQL's rate for a ping's transaction; with `body`, the ping row carries
    it, sent as the same hex literal psycopg2 sends for a POST ping's body."""
    script = workdir / "ping.sql"
    script.write_text(
        PGBENCH_SCRIPT.format(
            checks=checks,
            first_id=first_id,
            method="GET" if body is None else "POST",
            body="NULL" if body is None else f"'\\x{body.hex()}'::bytea",
        )
    )
    parts = urlsplit(url)
    cpu = cpu_by_role(None)
    out = subprocess.run(
        [
            "pgbench",
            "-n",
            "-h",
            parts.hostname,
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(duration),
            "-r",
            "-f",
            str(script),
            parts.path[1:],
        ],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    ).stdout
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    latency = re.search(r"latency average = ([\d.]+) ms", out)
    done = re.search(r"number of transactions actually processed: (\d+)", out)
    transactions = int(done.group(1)) if done else round(tps * duration)
    return {
        "rate": tps,
        "latency_avg_ms": float(latency.group(1)) if latency else None,
        "transactions": transactions,
        "cpu_ms": cpu_per_request(cpu, cpu_by_role(None), transactions),
    }


def analyze(url: str) -> None:
    """Planner statistics for the freshly filled tables, as a running database has
    them (and as `pgbench -i` leaves its own): without them PostgreSQL may look a slug
    up by scanning every check of the project."""
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("ANALYZE")
    finally:
        conn.close()


def commit_count(url: str) -> int:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT xact_commit FROM pg_stat_database"
            " WHERE datname = current_database()"
        )
        return cursor.fetchone()[0]


def worker_pids(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text()
    return [int(pid) for pid in children.split()]


def connections_per_worker(master_pid: int, port: int) -> list[int]:
    """Established connections to `port` that each gunicorn worker holds.

    A keep-alive connection stays with the process that accepted it, and gunicorn's
    processes share one listening socket: how the load's connections fell out between
    them moves the figures from run to run (docs/performance.md).
    """
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                established.add(inode)
    counts = []
    for pid in worker_pids(master_pid):
        held = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):  # closed meanwhile
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    held.add(target[len("socket:[") : -1])
        counts.append(len(held & established))
    return sorted(counts, reverse=True)


def worker_memory(master_pid: int) -> list[dict]:
    """RSS and PSS (shared pages divided among sharers) of each gunicorn worker, MiB."""
    result = []
    for pid in worker_pids(master_pid):
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        rss, pss = (
            int(re.search(rf"^{field}:\s+(\d+) kB", rollup, re.M).group(1))
            for field in ("Rss", "Pss")
        )
        result.append(
            {
                "pid": int(pid),
                "rss_mib": rss / 1024,
                "pss_mib": pss / 1024,
            }
        )
    return result


TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of one process and of its children that ended
    and were waited for (0 if it is gone). A load client's run (wrk, pgbench) and a
    closed PostgreSQL backend count that way, in this process and the postmaster."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / TICKS_PER_SECOND


def cpu_by_role(web_master: int | None) -> dict[str, float]:
    """CPU seconds so far of the web role (gunicorn's processes), every PostgreSQL
    process of the machine (backends, WAL writer, checkpointer ...) and the load
    client (wrk, pgbench, or this process with --client python)."""
    web = {web_master, *worker_pids(web_master)} if web_master else set()
    totals = {"web": 0.0, "postgres": 0.0, "client": cpu_seconds(os.getpid())}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid in web:
            totals["web"] += cpu_seconds(pid)
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm == "postgres":
            totals["postgres"] += cpu_seconds(pid)
        elif comm in ("wrk", "pgbench"):
            totals["client"] += cpu_seconds(pid)
    return totals


def cpu_per_request(before: dict[str, float], after: dict[str, float], requests: int):
    """Milliseconds of CPU per request (ping or transaction) by role."""
    return {
        role: (after[role] - before[role]) * 1000 / max(1, requests) for role in after
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per phase")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 2))
    )
    parser.add_argument(
        "--threads", type=int, default=int(os.environ.get("GUNICORN_THREADS", 8))
    )
    parser.add_argument(
        "--client",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
    )
    parser.add_argument("--only", choices=("uuid", "slug", "post"), action="append")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    base_url = os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hc_deploy"
    )
    name = urlsplit(base_url).path[1:] or "hc"
    url = scratch_database_url(base_url, f"{name}_bench")
    workdir = Path(tempfile.mkdtemp(prefix="hc-bench-"))
    port = free_port()
    env = role_env(
        DATABASE_URL=url,
        REDIS_URL="",
        PORT=str(port),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(args.workers),
        GUNICORN_THREADS=str(args.threads),
        LOG_LEVEL="WARNING",
    )
    run_role("migrate", env=env)
    data = json.loads(
        run_role(
            "manage", "shell", "-c", SETUP.format(checks=args.checks), env=env
        ).splitlines()[-1]
    )
    analyze(url)
    web = subprocess.Popen([ENTRYPOINT, "web"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    results: dict = {
        "workers": args.workers,
        "threads": args.threads,
        "connections": args.connections,
        "checks": args.checks,
        "client": args.client,
        "duration_s": args.duration,
        "cpus": os.cpu_count(),
    }
    try:
        wait_for(lambda: http_status(f"{base}/health/", 1) == 200, 60, "gunicorn")
        load = wrk_run if args.client == "wrk" else python_run
        uuids = [f"/ping/{c}" for c in data["codes"]]
        slugs = [f"/ping/{data['ping_key']}/job-{i}" for i in range(args.checks)]
        scenarios = {
            "uuid": (uuids, None),
            "slug": (slugs, None),
            "post": (uuids, POST_BODY),
        }
        for label, (paths, body) in scenarios.items():
            if args.only and label not in args.only:
                continue
            # Warm up: connections opened, code paths imported.
            load(base, paths, 1, args.connections, body, workdir)
            commits = commit_count(url)
            spread: list[int] = []
            sample = threading.Timer(
                args.duration / 2,
                lambda into=spread: into.extend(connections_per_worker(web.pid, port)),
            )
            sample.start()
            cpu = cpu_by_role(web.pid)
            results[label] = load(
                base, paths, args.duration, args.connections, body, workdir
            )
            results[label]["cpu_ms"] = cpu_per_request(
                cpu, cpu_by_role(web.pid), results[label]["requests"]
            )
            sample.join()
            results[label]["connections_per_worker"] = spread
            # Transactions committed in the database meanwhile (PostgreSQL's
            # statistics, flushed within a second): pings per transaction shows how
            # many pings the group commit put in one.
            time.sleep(1.5)
            results[label]["pings_per_commit"] = results[label]["requests"] / max(
                1, commit_count(url) - commits
            )
        results["memory"] = worker_memory(web.pid)
    finally:
        web.terminate()
        web.wait(30)
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM checks_check")
        first_id = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM checks_ping")
        results["pings_stored"] = cursor.fetchone()[0]
    results["pgbench"] = pgbench_run(
        url, args.checks, first_id, args.duration, args.connections, workdir
    )
    if "post" in results:
        # The POST scenario's equivalent transaction stores its 10 kB body too.
        results["pgbench_post"] = pgbench_run(
            url,
            args.checks,
            first_id,
            args.duration,
            args.connections,
            workdir,
            body=POST_BODY,
        )
    for label in ("uuid", "slug", "post"):
        if label in results:
            pgbench = results["pgbench_post" if label == "post" else "pgbench"]
            results[label]["ratio_to_pgbench"] = (
                results[label]["rate"] / pgbench["rate"]
            )
    if "post" in results:
        results["post"]["ratio_to_pgbench_without_body"] = (
            results["post"]["rate"] / results["pgbench"]["rate"]
        )
    if not args.keep:
        drop_database(url)
    shutil.rmtree(workdir, ignore_errors=True)

    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"gunicorn {args.workers} workers x {args.threads} threads, "
        f"{args.connections} connections ({args.client}), {args.checks} checks, "
        f"{args.duration} s per phase, {os.cpu_count()} CPUs"
    )
    print(
        f"{'scenario':<22}{'pings/s':>10}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
        f"{'non-2xx':>9}{'vs pgbench':>12}{'pings/commit':>14}  conns/worker"
    )
    for label, title in (
        ("uuid", "GET /ping/<uuid>"),
        ("slug", "GET /ping/<key>/<slug>"),
        ("post", "POST /ping/<uuid> 10kB"),
    ):
        if label in results:
            r = results[label]
            print(
                f"{title:<22}{r['rate']:>10.0f}{r['p50_ms']:>9.2f}{r['p90_ms']:>9.2f}"
                f"{r['p99_ms']:>9.2f}{r['errors']:>9}{r['ratio_to_pgbench']:>11.2f}x"
                f"{r['pings_per_commit']:>14.2f}  "
                + "/".join(str(n) for n in r["connections_per_worker"])
            )
    for key, title in (
        ("pgbench", "pgbench update+insert"),
        ("pgbench_post", "pgbench ... 10kB body"),
    ):
        if key in results:
            pg = results[key]
            print(
                f"{title:<22}{pg['rate']:>10.0f}"
                f"{pg['latency_avg_ms'] or 0:>9.2f} (average)"
            )
    print("CPU per ping or transaction, ms: web / PostgreSQL / client = total")
    for key, title in (
        ("uuid", "GET /ping/<uuid>"),
        ("slug", "GET /ping/<key>/<slug>"),
        ("post", "POST /ping/<uuid> 10kB"),
        ("pgbench", "pgbench update+insert"),
        ("pgbench_post", "pgbench ... 10kB body"),
    ):
        if key in results:
            cpu = results[key]["cpu_ms"]
            print(
                f"  {title:<22}{cpu['web']:>6.2f} / {cpu['postgres']:.2f} / "
                f"{cpu['client']:.2f} = {sum(cpu.values()):.2f}"
            )
    if "post" in results:
        print(
            "POST's ratio is to pgbench with the body; to pgbench without it: "
            f"{results['post']['ratio_to_pgbench_without_body']:.2f}x"
        )
    for m in results["memory"]:
        print(
            f"gunicorn worker {m['pid']}: RSS {m['rss_mib']:.1f} MiB, "
            f"PSS {m['pss_mib']:.1f} MiB"
        )


if __name__ == "__main__":
    main()
