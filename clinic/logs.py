"""Log lines for the people who run the service: JSON (or plain text for a developer), each
with the request id of the work it belongs to (intake.tracing), case and partner ids where
they matter, and never patient data.

Patient data could reach a log only through an exception's text (a validation message may
quote what was sent) or Celery's failure line, which prints the exception and the task's
arguments. So exceptions are logged by type and stack, never by their message, and Celery's
failure lines keep only the task's name and id."""

import logging
import traceback
from types import TracebackType

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from intake import tracing

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
# Celery's own context fields that hold no exception text and no arguments.
_SAFE_CELERY_FIELDS = ("id", "name", "description", "hostname", "internal")


def exception_without_values(exc_info: ExcInfo) -> str:
    """The stack and each exception's type, chained causes included; no message."""
    lines: list[str] = []
    exc: BaseException | None = exc_info[1]
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        frames = traceback.extract_tb(exc.__traceback__)
        lines[:0] = [*traceback.format_list(frames), f"{type(exc).__module__}.{type(exc).__qualname__}\n"]
        exc = exc.__cause__ or exc.__context__
    return "Traceback (most recent call last, messages withheld):\n" + "".join(lines).rstrip()


class RequestContext(logging.Filter):
    """Stamps every record with the request id of the work under way."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = tracing.current() or None
        return True


class WithholdPatientData(logging.Filter):
    """Celery's task failure and retry lines print the exception's text and the task's
    arguments: keep the task's name and id and the exception's type only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("celery") and isinstance(record.args, dict) and "exc" in record.args:
            # Celery passes the exception's repr (text); its type comes from exc_info.
            exc = record.args["exc"]
            if isinstance(exc, BaseException):
                kind = type(exc).__name__
            elif isinstance(exc, str) and exc.startswith("Retry in "):
                kind = exc.partition(":")[0]  # "Retry in 2s", without the reason's text
            else:
                kind = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else "error"
            record.args = {**record.args, "exc": kind, "args": "…", "kwargs": "…", "traceback": ""}
            data = getattr(record, "data", None)
            if isinstance(data, dict):
                record.data = {key: data[key] for key in _SAFE_CELERY_FIELDS if key in data}
        return True


class JsonFormatter(_JsonFormatter):
    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        return exception_without_values(ei)


class TextFormatter(logging.Formatter):
    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        return exception_without_values(ei)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {request_id}]" if request_id else line


def logging_config(*, fmt: str, level: str) -> dict:
    """settings.LOGGING for LOG_FORMAT json (default) or text."""
    formatters = {
        "json": {
            "()": JsonFormatter,
            "fmt": "{asctime}{levelname}{name}{message}",
            "style": "{",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"()": TextFormatter, "format": "{asctime} {levelname} {name}: {message}", "style": "{"},
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request": {"()": RequestContext},
            "withhold": {"()": WithholdPatientData},
        },
        "formatters": {fmt: formatters[fmt]},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["request", "withhold"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # Axes reports every reset at INFO; lock-outs come at WARNING.
        "loggers": {"axes": {"level": "WARNING"}},
    }
