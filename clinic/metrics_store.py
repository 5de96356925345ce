"""Where every process of the service keeps its Prometheus figures, so that /metrics, served by
any one web worker, adds up all of them: the web workers', the Celery worker's and beat's.

prometheus_client chooses its storage when it is first imported, before Django's settings
are read, so the directory is settled here, first thing in the `clinic` package. It is read
from PROMETHEUS_MULTIPROC_DIR (the library's own variable; README, Configuration), else
`metrics/` in the service's var directory."""

import os
from pathlib import Path


def prepare() -> Path:
    default = (
        Path(os.environ.get("CLINIC_VAR_DIR", Path(__file__).resolve().parent.parent / ".var")) / "metrics"
    )
    directory = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(default)))
    directory.mkdir(parents=True, exist_ok=True)
    return directory
