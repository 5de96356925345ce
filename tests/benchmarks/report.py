"""The benchmark's table: each figure beside its yardstick, each target met or not."""

# The targets (issue 27), kept beside the figures they judge.
REFERRAL_RATIO = 0.5  # of the bare referral, warm
REFERRAL_P99_MS = 100  # at 16 connections, warm and in the first seconds after a start
DRAFT_RATIO = 0.5  # of the bare task
PACED_P99_MS = 50  # referral -> awaiting_review at 50/s
INSERT_RATIO = 0.25  # issue 16's, against the bare INSERT view: kept for continuity
PAGE_MS = 150  # the pages at 1,000,000 cases (issue 16)


def _verdict(met: bool | None) -> str:
    return "" if met is None else ("met" if met else "NOT met")


def report(results: dict) -> None:
    a, b, c, d, e = (results[k] for k in "abcde")
    api, bare, insert, cold = a["api"], a["bare"], a["insert"], a["cold"]
    rows = [
        (
            "(a) POST /api/v1/referrals/ rps (warm)",
            f"{api['rps']:.0f}",
            f"bare referral {bare['rps']:.0f}",
            f"ratio {a['ratio']:.2f}",
            a["ratio"] >= REFERRAL_RATIO,
        ),
        (
            "(a) p50 / p99 ms, 16 connections (warm)",
            f"{api['p50_ms']:.1f} / {api['p99_ms']:.1f}",
            f"bare {bare['p50_ms']:.1f} / {bare['p99_ms']:.1f}",
            f"non-2xx {api['errors']}",
            api["p99_ms"] < REFERRAL_P99_MS and not api["errors"],
        ),
        (
            "(a) first seconds after start: rps, p99",
            f"{cold['rps']:.0f}, {cold['p99_ms']:.1f} ms",
            f"warm p99 {api['p99_ms']:.1f} ms",
            f"non-2xx {cold['errors']}",
            cold["p99_ms"] < REFERRAL_P99_MS and not cold["errors"],
        ),
        (
            "(a) against the bare INSERT view",
            f"{api['rps']:.0f}",
            f"bare INSERT {insert['rps']:.0f}",
            f"ratio {a['insert_ratio']:.2f}",
            a["insert_ratio"] >= INSERT_RATIO,
        ),
        (
            "(b) drafts per second",
            f"{b['drafts_per_s']:.0f}",
            f"bare task {b['bare_tasks_per_s']:.0f}",
            f"ratio {b['ratio']:.2f}",
            b["ratio"] >= DRAFT_RATIO,
        ),
        (
            f"(c) referral->awaiting p50 / p99 at {c['rate_per_s']}/s",
            f"{c['p50_ms']:.1f} / {c['p99_ms']:.1f} ms",
            f"{c['drafted']}/{c['referrals']} drafted",
            "",
            c["p99_ms"] < PACED_P99_MS and c["drafted"] == c["referrals"],
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
                None if page == "metrics scrape" else lg["ms"] <= PAGE_MS and lg["queries"] == s["queries"],
            )
        )
    rows.append(
        ("(e) peak memory MB", f"web {e['web_peak_mb']:.0f}", f"worker {e['worker_peak_mb']:.0f}", "", None)
    )
    print(f"\nserver: {results['server']}; load: {results['wrk']}")
    print(f"\n{'measure':44} {'service':22} {'baseline':26} {'':12} target")
    for name, ours, base, extra, met in rows:
        print(f"{name:44} {ours:22} {base:26} {extra:12} {_verdict(met)}")
    f = results["f"]
    print(
        f"\n(f) one referral in-process, mean of {f['requests']} (new patient, no Idempotency-Key): "
        f"{f['total_ms']:.2f} ms, {f['statements']:.1f} statements and one transaction"
    )
    for part in ("sql", "key_check", "throttle", "validation", "matching_python", "publish", "rest"):
        share = f[f"{part}_ms"] / f["total_ms"] * 100 if f["total_ms"] else 0
        print(f"    {part.replace('_', ' '):28} {f[part + '_ms']:7.2f} ms  {share:4.0f} %")
    print("    (rest: middleware, DRF, the ORM's Python, JSON, the response body)")
    print(f"    the key looked up and hashed, when not remembered: {f['key_lookup_uncached_ms']:.2f} ms")
    g = results["g"]
    print(
        f"\n(g) one draft in-process (make_draft), mean of {g['drafts']}: {g['total_ms']:.2f} ms, "
        f"{g['statements']:.1f} statements and one transaction"
    )
    for part in ("sql", "engine", "rest"):
        share = g[f"{part}_ms"] / g["total_ms"] * 100 if g["total_ms"] else 0
        print(f"    {part:28} {g[part + '_ms']:7.2f} ms  {share:4.0f} %")
    print(f"    (the bare task's INSERT alone: {g['bare_insert_ms']:.2f} ms)")
