"""Benchmark the service against the bare stack, on this machine, in one run.

    python -m tests.benchmarks            # the real run (about 12 minutes)
    python -m tests.benchmarks --smoke    # tiny sizes, as .ci/run does
    python -m tests.benchmarks --servers  # the referral path under candidate gunicorn settings

Starts gunicorn (DEBUG off, clinic.wsgi:application, the production clinic/gunicorn.conf.py) and a
Celery worker against a fresh PostgreSQL database (clinic_bench) and Redis (db 13); the load comes
from wrk. Prints one table, each target met or not, and writes the same figures as JSON
(test-output/benchmark.json).
"""

import argparse
import json
import sys
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path

from tests.benchmarks import load
from tests.benchmarks.harness import BROKER, OUTPUT, Processes, fresh_database, percentile, referral

REFERRALS = "/api/v1/referrals/"
# Candidate production settings for --servers: gunicorn options on top of clinic/gunicorn.conf.py.
CANDIDATES = {
    "2 sync workers": ["--workers", "2"],
    "3 sync workers": ["--workers", "3"],
    "4 sync workers": ["--workers", "4"],
    "5 sync workers (2 x cores + 1)": ["--workers", "5"],
    "2 workers x 4 threads (gthread)": ["--workers", "2", "--threads", "4"],
    "3 sync workers, no preload": ["--workers", "3", "GUNICORN_PRELOAD=0"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check that it runs")
    parser.add_argument("--servers", action="store_true", help="compare candidate gunicorn settings")
    parser.add_argument("--json", default=str(OUTPUT / "benchmark.json"))
    args = parser.parse_args()
    sizes = (
        {
            "seconds": 2,
            "warm": 1,
            "cold": 2,
            "backlog": 200,
            "paced": 20,
            "rate": 20,
            "small": 1_000,
            "large": 5_000,
        }
        if args.smoke
        else {
            "seconds": 10,
            "warm": 3,
            "cold": 3,
            "backlog": 5_000,
            "paced": 500,
            "rate": 50,
            "small": 10_000,
            "large": 1_000_000,
        }
    )
    if not load.available():
        print("The benchmark needs wrk, the load generator: apt-get install wrk (.ci/run installs it).")
        return 2
    OUTPUT.mkdir(exist_ok=True)
    fresh_database()

    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.db import connection

    from intake.partners import create_partner
    from tests.benchmarks.bare import SCHEMA, create_bare_key

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # as production does
    from recommendations.protocols import import_demo_protocols

    import_demo_protocols()  # drafts under the clinic's protocols, as the quick start's are
    with connection.cursor() as cursor:
        for statement in SCHEMA:
            cursor.execute(statement)
    redis.Redis.from_url(BROKER).flushdb()
    _, key = create_partner(name="Bench Partner")
    servers = {
        "insert": ("/bench/bare/", ""),
        "bare": ("/bench/referral/", f"Api-Key {create_bare_key()}"),
        "api": (REFERRALS, f"Api-Key {key}"),
    }
    connection.close()
    if args.servers:
        return compare_servers(servers["bare"], servers["api"], sizes)
    results: dict = {"sizes": sizes, "server": "clinic/gunicorn.conf.py as it is", "wrk": load.SETTINGS}
    procs = Processes()
    try:
        results["a"] = referral_load(procs, servers, sizes)
        results |= drafting(procs, key, sizes)
        results["e"] = {
            "web_peak_mb": procs.peak_rss_mb(procs.web),
            "worker_peak_mb": procs.peak_rss_mb(procs.worker),
        }
    finally:
        procs.stop()

    from tests.benchmarks.breakdown import draft_breakdown, referral_breakdown

    results["f"] = referral_breakdown(key=key, make_body=referral, count=sizes["paced"], first=2 * 10**7)
    redis.Redis.from_url(BROKER).flushdb()
    results["g"] = draft_breakdown(count=sizes["paced"])

    # (d) the queue and the board at two sizes, in-process: time and query count.
    from tests.benchmarks.pages import measure_pages

    results["d"] = measure_pages(sizes["small"], sizes["large"])
    from tests.benchmarks.report import report

    report(results)
    Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    print(f"\nfigures written to {args.json}")
    return 0


def referral_load(procs: Processes, servers: dict, sizes: dict, *options: str) -> dict:
    """(a): the first seconds after a start, then each server warm, with the drafting worker
    stopped (the bare referral's LPUSH has no consumer either; drafting is measured in (b), (c)).
    `options`: gunicorn's, and NAME=value for its environment."""
    tag = uuid.uuid4().hex[:8]
    env = dict(option.split("=", 1) for option in options if "=" in option and not option.startswith("-"))
    procs.start_web(*(option for option in options if option.split("=", 1)[0] not in env), env=env)
    figures = {"cold": load.run(procs.port, *servers["api"], seconds=sizes["cold"], tag=f"{tag}c")}
    for name, (path, authorization) in servers.items():
        load.run(procs.port, path, authorization, seconds=sizes["warm"], tag=f"{tag}{name}w")
        figures[name] = load.run(
            procs.port, path, authorization, seconds=sizes["seconds"], tag=f"{tag}{name}"
        )
    figures["ratio"] = figures["api"]["rps"] / figures["bare"]["rps"]
    if "insert" in figures:
        figures["insert_ratio"] = figures["api"]["rps"] / figures["insert"]["rps"]
    return figures


def drafting(procs: Processes, key: str, sizes: dict) -> dict:
    """(b) a backlog against the bare task, (c) referral -> awaiting_review at a paced rate."""
    import redis
    from django.db import connection

    from clinic.celery import app
    from intake.models import Case, CaseEvent, CaseStatus
    from tests.benchmarks.data import add_cases

    # The referrals (a) queued wait in Redis: clear them, and the cases they were for.
    redis.Redis.from_url(BROKER).flushdb()
    Case.objects.filter(status__in=[CaseStatus.RECEIVED, CaseStatus.DRAFTING]).update(
        status=CaseStatus.WITHDRAWN
    )
    backlog = sizes["backlog"]
    procs.start_worker()
    started = time.monotonic()
    for n in range(backlog):
        app.send_task("bench.bare_task", args=[n])
    _wait(lambda: _count("SELECT count(*) FROM bench_bare_task", connection) >= backlog, "the bare tasks")
    bare_rate = backlog / (time.monotonic() - started)
    before = set(Case.objects.values_list("id", flat=True))
    add_cases(backlog, patients=max(backlog // 10, 1), status=CaseStatus.RECEIVED)
    fresh = list(Case.objects.exclude(id__in=before).values_list("id", flat=True))
    started = time.monotonic()
    for case_id in fresh:
        app.send_task("recommendations.draft_case", args=[str(case_id)])
    _wait(
        lambda: Case.objects.filter(id__in=fresh, status=CaseStatus.AWAITING_REVIEW).count() >= len(fresh),
        "the backlog",
    )
    draft_rate = len(fresh) / (time.monotonic() - started)
    b = {"bare_tasks_per_s": bare_rate, "drafts_per_s": draft_rate, "ratio": draft_rate / bare_rate}

    count, rate = sizes["paced"], sizes["rate"]
    ids: list[str] = []
    conn = HTTPConnection("127.0.0.1", procs.port, timeout=30)
    headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
    begin = time.monotonic()
    for n in range(count):
        time.sleep(max(0.0, begin + n / rate - time.monotonic()))
        conn.request("POST", REFERRALS, body=json.dumps(referral(10**7 + n)), headers=headers)
        ids.append(json.loads(conn.getresponse().read())["id"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if Case.objects.filter(id__in=ids, status=CaseStatus.AWAITING_REVIEW).count() == len(ids):
            break
        time.sleep(0.2)
    latencies = [
        (event.created_at - event.case.created_at).total_seconds()
        for event in CaseEvent.objects.filter(
            case_id__in=ids, to_status=CaseStatus.AWAITING_REVIEW
        ).select_related("case")
    ]
    c = {
        "referrals": count,
        "rate_per_s": rate,
        "drafted": len(latencies),
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }
    return {"b": b, "c": c}


def compare_servers(bare: tuple[str, str], api: tuple[str, str], sizes: dict) -> int:
    """The referral path (and the bare referral) under each candidate setting: cold, then warm."""
    header = ("gunicorn settings", "first s p99", "rps", "p50", "p99", "bare rps", "ratio")
    print("\n{:36} {:>12} {:>6} {:>7} {:>7} {:>9} {:>6}".format(*header))
    rows = {}
    for name, options in CANDIDATES.items():
        procs = Processes()
        try:
            figures = referral_load(procs, {"bare": bare, "api": api}, sizes, *options)
        finally:
            procs.stop()
        rows[name] = figures
        api_, cold = figures["api"], figures["cold"]
        row = (name, cold["p99_ms"], api_["rps"], api_["p50_ms"], api_["p99_ms"], figures["bare"]["rps"])
        print(
            "{:36} {:10.0f}ms {:6.0f} {:5.0f}ms {:5.0f}ms {:9.0f}".format(*row),
            f"{figures['ratio']:6.2f}  non-2xx {api_['errors'] + cold['errors']}",
        )
    Path(OUTPUT / "benchmark-servers.json").write_text(json.dumps(rows, indent=2))
    print(f"\nfigures written to {OUTPUT / 'benchmark-servers.json'}")
    return 0


def _count(sql: str, connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def _wait(done, what: str, *, seconds: float = 900) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not finish in 15 minutes; see test-output/bench-worker.log")
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
