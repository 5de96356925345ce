import time

import pytest


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.1):
    """Poll until `predicate()` is truthy; return its last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


# For tests whose transactions must really commit (other threads, a worker, a
# browser). The flush after such a test empties every table; serialized_rollback
# puts back what migrations wrote (the roles) before the next one.
committed_db = pytest.mark.django_db(transaction=True, serialized_rollback=True)
