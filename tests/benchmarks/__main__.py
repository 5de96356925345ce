"""Benchmark the service against the bare stack, on this machine, in one run.

    python -m tests.benchmarks            # the real run (about 10 minutes)
    python -m tests.benchmarks --smoke    # tiny sizes, as .ci/run does

Starts gunicorn (DEBUG off, clinic.wsgi:application) and a Celery worker against
a fresh PostgreSQL database (clinic_bench) and Redis (db 13), prints one table
and writes the same figures as JSON (test-output/benchmark.json).
"""

import argparse
import json
import sys
import time
from http.client import HTTPConnection
from pathlib import Path

from tests.benchmarks.harness import (
    BROKER,
    OUTPUT,
    Processes,
    counter,
    fresh_database,
    percentile,
    post_load,
    referral,
)


def main() -> int:  # noqa: C901 - one script, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check that it runs")
    parser.add_argument("--json", default=str(OUTPUT / "benchmark.json"))
    args = parser.parse_args()
    sizes = (
        {"seconds": 2, "backlog": 200, "paced": 20, "rate": 20, "small": 1_000, "large": 5_000}
        if args.smoke
        else {"seconds": 20, "backlog": 5_000, "paced": 500, "rate": 50, "small": 10_000, "large": 1_000_000}
    )
    OUTPUT.mkdir(exist_ok=True)
    fresh_database()

    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.db import connection

    from clinic.celery import app
    from intake.models import Case, CaseStatus
    from intake.partners import create_partner
    from tests.benchmarks.bare import SCHEMA

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # as production does
    with connection.cursor() as cursor:
        for statement in SCHEMA:
            cursor.execute(statement)
    redis.Redis.from_url(BROKER).flushdb()
    _, key = create_partner(name="Bench Partner")
    headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
    procs = Processes()
    results: dict = {"sizes": sizes}
    try:
        procs.start_web()
        procs.start_worker()

        # (a) POST /api/v1/referrals/ vs a bare INSERT view, 16 clients each.
        clients = 16
        bare = post_load(
            procs.port,
            "/bench/bare/",
            counter(lambda n: {"n": n}),
            {"Content-Type": "application/json"},
            clients=clients,
            seconds=sizes["seconds"],
        )
        api = post_load(
            procs.port,
            "/api/v1/referrals/",
            counter(referral),
            headers,
            clients=clients,
            seconds=sizes["seconds"],
        )
        results["a"] = {"bare": bare, "api": api, "ratio": api["rps"] / bare["rps"]}
        procs.stop_worker()  # the drafts the load queued wait in Redis; clear them for (b)
        redis.Redis.from_url(BROKER).flushdb()
        Case.objects.filter(status__in=[CaseStatus.RECEIVED, CaseStatus.DRAFTING]).update(
            status=CaseStatus.WITHDRAWN
        )

        # (b) drafting a backlog vs a bare task, same worker settings: the worker is
        # running, the whole backlog is published, and the clock stops at the last row.
        from tests.benchmarks.data import add_cases

        backlog = sizes["backlog"]
        procs.start_worker()
        started = time.monotonic()
        for n in range(backlog):
            app.send_task("bench.bare_task", args=[n])
        deadline = time.monotonic() + 900
        while True:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM bench_bare_task")
                if cursor.fetchone()[0] >= backlog:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "the bare tasks did not finish in 15 minutes; see test-output/bench-worker.log"
                )
            time.sleep(0.05)
        bare_rate = backlog / (time.monotonic() - started)
        before = set(Case.objects.values_list("id", flat=True))
        add_cases(backlog, patients=max(backlog // 10, 1), status=CaseStatus.RECEIVED)
        fresh = list(Case.objects.exclude(id__in=before).values_list("id", flat=True))
        started = time.monotonic()
        for case_id in fresh:
            app.send_task("recommendations.draft_case", args=[str(case_id)])
        deadline = time.monotonic() + 900
        while Case.objects.filter(id__in=fresh, status=CaseStatus.AWAITING_REVIEW).count() < len(fresh):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "the backlog was not drafted in 15 minutes; see test-output/bench-worker.log"
                )
            time.sleep(0.05)
        draft_rate = len(fresh) / (time.monotonic() - started)
        results["b"] = {
            "bare_tasks_per_s": bare_rate,
            "drafts_per_s": draft_rate,
            "ratio": draft_rate / bare_rate,
        }

        # (c) referral -> awaiting_review at a paced rate.
        count, rate = sizes["paced"], sizes["rate"]
        ids: list[str] = []
        conn = HTTPConnection("127.0.0.1", procs.port, timeout=30)
        begin = time.monotonic()
        for n in range(count):
            time.sleep(max(0.0, begin + n / rate - time.monotonic()))
            conn.request("POST", "/api/v1/referrals/", body=json.dumps(referral(10**7 + n)), headers=headers)
            response = conn.getresponse()
            ids.append(json.loads(response.read())["id"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if Case.objects.filter(id__in=ids, status=CaseStatus.AWAITING_REVIEW).count() == len(ids):
                break
            time.sleep(0.2)
        from intake.models import CaseEvent

        latencies = [
            (event.created_at - event.case.created_at).total_seconds()
            for event in CaseEvent.objects.filter(
                case_id__in=ids, to_status=CaseStatus.AWAITING_REVIEW
            ).select_related("case")
        ]
        results["c"] = {
            "referrals": count,
            "rate_per_s": rate,
            "drafted": len(latencies),
            "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
        }

        # (e) peak memory, after the load above.
        results["e"] = {
            "web_peak_mb": procs.peak_rss_mb(procs.web),
            "worker_peak_mb": procs.peak_rss_mb(procs.worker),
        }
    finally:
        procs.stop()

    # (f) where a referral's time goes, in-process, on the same database.
    from tests.benchmarks.breakdown import referral_breakdown

    results["f"] = referral_breakdown(key=key, make_body=referral, count=sizes["paced"], first=2 * 10**7)
    redis.Redis.from_url(BROKER).flushdb()

    # (d) the queue and the board at two sizes, in-process: time and query count.
    from tests.benchmarks.pages import measure_pages

    results["d"] = measure_pages(sizes["small"], sizes["large"])
    report(results)
    Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    print(f"\nfigures written to {args.json}")
    return 0


def report(results: dict) -> None:
    a, b, c, d, e = (results[k] for k in "abcde")
    rows = [
        (
            "(a) POST /api/v1/referrals/ rps",
            f"{a['api']['rps']:.0f}",
            f"bare view {a['bare']['rps']:.0f}",
            f"ratio {a['ratio']:.2f}",
            a["ratio"] >= 0.25,
        ),
        (
            "(a) latency p50 / p99 ms, 16 connections",
            f"{a['api']['p50_ms']:.1f} / {a['api']['p99_ms']:.1f}",
            f"bare {a['bare']['p50_ms']:.1f} / {a['bare']['p99_ms']:.1f}",
            f"errors {a['api']['errors']}",
            a["api"]["p99_ms"] < 100 and not a["api"]["errors"],
        ),
        (
            "(b) drafts per second",
            f"{b['drafts_per_s']:.0f}",
            f"bare task {b['bare_tasks_per_s']:.0f}",
            f"ratio {b['ratio']:.2f}",
            b["ratio"] >= 0.5,
        ),
        (
            f"(c) referral->awaiting p50 / p99 at {c['rate_per_s']}/s",
            f"{c['p50_ms']:.1f} / {c['p99_ms']:.1f} ms",
            f"{c['drafted']}/{c['referrals']} drafted",
            "",
            c["p99_ms"] <= 50,
        ),
    ]
    for page, sizes in d.items():
        (small, s), (large, lg) = sorted(sizes.items(), key=lambda item: int(item[0]))
        rows.append(
            (
                f"(d) {page} ms / queries",
                f"{s['ms']:.1f} / {s['queries']} at {int(small):,}",
                f"{lg['ms']:.1f} / {lg['queries']} at {int(large):,}",
                "",
                # The target is for the pages people wait on; the scrape has none.
                None if page == "metrics scrape" else lg["ms"] <= 150 and lg["queries"] == s["queries"],
            )
        )
    rows.append(
        ("(e) peak memory MB", f"web {e['web_peak_mb']:.0f}", f"worker {e['worker_peak_mb']:.0f}", "", None)
    )
    print(f"\n{'measure':44} {'service':22} {'baseline':26} {'':12} target")
    for name, ours, base, extra, met in rows:
        verdict = "" if met is None else ("met" if met else "NOT met")
        print(f"{name:44} {ours:22} {base:26} {extra:12} {verdict}")
    f = results["f"]
    print(
        f"\n(f) one referral in-process, mean of {f['requests']} (new patient, no Idempotency-Key): "
        f"{f['total_ms']:.2f} ms, {f['statements']:.1f} statements"
    )
    for part in ("sql", "validation", "matching_python", "publish", "rest"):
        share = f[f"{part}_ms"] / f["total_ms"] * 100 if f["total_ms"] else 0
        print(f"    {part.replace('_', ' '):28} {f[part + '_ms']:7.2f} ms  {share:4.0f} %")
    print("    (rest: middleware, authentication, DRF, JSON, the response body)")


if __name__ == "__main__":
    sys.exit(main())
