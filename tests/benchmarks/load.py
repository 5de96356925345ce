"""The load generator: wrk (C, event loop), so that the client's own CPU is small beside the
server's on a two-core machine. Each request is a new referral: a unique external_id and name,
and birth dates spread over 70 years (a clinic's patients, not 5,000 people born on one day), so
the patient match reads what it would read in a clinic. Both referral servers get the same bodies.
"""

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

THREADS, CONNECTIONS = 2, 16
SETTINGS = f"wrk {THREADS} threads x {CONNECTIONS} keep-alive connections"

SCRIPT = r"""
local counter = 0
errors = 0  -- a global: done() reads it from each thread
local threads = {}
local path, key, tag
local base = os.time{year=1935, month=1, day=1, hour=12}
local template = '{"external_id": "B-%s-%d-%d", "patient": {"given_name": "Pat%d", "family_name": '
  .. '"Bench%dx%d", "birth_date": "%s", "sex": "female", "phone": "", "email": ""}, '
  .. '"condition": {"icd10": "M17.11", "description": "OA knee"}, "affected_sites": ["right_knee"], '
  .. '"contraindications": {"active_malignancy": false, "active_infection": false, "pregnant": false, '
  .. '"anticoagulant_therapy": false, "bleeding_disorder": false, "immunosuppressed": false}, '
  .. '"consent_obtained": true}'

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  path, key, tag = args[1], args[2], args[3]
end

function request()
  counter = counter + 1
  local days = (counter * 7919 + tid * 104729) % 25567
  local born = os.date("!%Y-%m-%d", base + days * 86400)
  local body = string.format(template, tag, tid, counter, counter, tid, counter, born)
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["Authorization"] = key}, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then errors = errors + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("errors") end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, bad, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def run(port: int, path: str, authorization: str, *, seconds: float, tag: str) -> dict:
    """POST new referrals for `seconds` with THREADS x CONNECTIONS keep-alive connections."""
    if not available():
        raise RuntimeError("the benchmark needs wrk: apt-get install wrk (.ci/run installs it)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(SCRIPT)
    try:
        finished = subprocess.run(
            [
                "wrk",
                f"-t{THREADS}",
                f"-c{CONNECTIONS}",
                f"-d{max(seconds, 1):.0f}s",
                "--timeout",
                "30s",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}",
                "--",
                path,
                authorization,
                tag,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    finally:
        Path(script.name).unlink()
    line = next(line for line in finished.stdout.splitlines() if line.startswith("WRK-JSON "))
    figures = json.loads(line.removeprefix("WRK-JSON "))
    seconds_run = figures["duration_us"] / 1e6
    return {
        "requests": figures["requests"],
        "errors": figures["non_2xx"] + figures["socket_errors"],
        "rps": figures["requests"] / seconds_run if seconds_run else 0.0,
        "p50_ms": figures["p50_us"] / 1000,
        "p90_ms": figures["p90_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "max_ms": figures["max_us"] / 1000,
    }
