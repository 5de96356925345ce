"""The request id that follows one piece of work: from the HTTP request (header X-Request-ID,
accepted or made here) into the Celery tasks it queues and the webhooks it causes, so one
id finds every log line of a referral. Plain Python (a context variable): every layer may
read it, none has to pass it along."""

import contextvars
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

HEADER = "X-Request-ID"
# What we accept from a caller: short, and nothing a log reader could be fooled by.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current() -> str:
    """The id of the work under way here, or "" outside any."""
    return _current.get()


def accept(offered: str | None) -> str:
    """The caller's id when it is a sensible one, else a new one."""
    if offered and _ACCEPTABLE.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


@contextmanager
def bound(request_id: str) -> Iterator[str]:
    token = _current.set(request_id)
    try:
        yield request_id
    finally:
        _current.reset(token)


def bind(request_id: str) -> contextvars.Token:
    """For a caller that cannot hold a `with` open (Celery's prerun/postrun signals)."""
    return _current.set(request_id)


def unbind(token: contextvars.Token) -> None:
    _current.reset(token)
