"""The service's own Prometheus figures that are counted as things happen, in whichever
process they happen (web, worker, beat): prometheus-client's multiprocess mode adds them up
at /metrics (clinic.metrics_store, clinic.metrics). Figures that the database knows exactly
(cases by status, decisions by outcome) are read from it at scrape time instead.

No label ever holds patient data: only task names, outcomes and results."""

from pathlib import Path

from prometheus_client import Counter, Histogram

DRAFTS = Counter("clinic_drafts_total", "Drafts made by the drafting worker.")
DRAFTS_FAILED = Counter("clinic_drafts_failed_total", "Cases whose drafting failed after its retries.")
DRAFT_LATENCY = Histogram(
    "clinic_draft_latency_seconds",
    "From a new case's commit to its first draft awaiting review.",
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
SWEEP_REQUEUES = Counter(
    "clinic_sweep_requeues_total", "Cases the stuck-case sweep queued again for drafting."
)
WEBHOOK_ATTEMPTS = Counter(
    "clinic_webhook_deliveries_total",
    "Webhook delivery attempts by result: delivered, failed (will retry) or gave_up.",
    ["result"],
)
TASKS = Histogram(
    "clinic_celery_task_seconds",
    "Celery task run time by task and final state.",
    ["task", "state"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def drop_stale(directory: Path, *, keep_pid: int | None = None) -> int:
    """Before the service's processes start: drop the figures of processes gone (files are
    named kind_<pid>.db). The calling process's own files stay: it may be writing them."""
    dropped = 0
    for stale in directory.glob("*.db"):
        if keep_pid is not None and stale.stem.rpartition("_")[2] == str(keep_pid):
            continue
        stale.unlink(missing_ok=True)
        dropped += 1
    return dropped
