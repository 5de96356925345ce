"""Log lines for the people who run the service: JSON (or plain text for a developer), each
with the request id of the work it belongs to (intake.tracing), case and partner ids where
they matter, and never patient data.

Patient data could reach a log through an exception's text (a validation message may
quote what was sent), Celery's failure line, which prints the exception and the task's
arguments, or a query string (a desk search, `?q=Silva+Ana+1961-04-02`), which Django's
own lines (django.request, django.security, django.server: the request object's repr),
gunicorn's request lines and referers carry. So exceptions are logged by type and stack,
never by their message, Celery's failure lines keep only the task's name and id, and every
line loses whatever query string it holds, whichever logger wrote it."""

import logging
import re
import traceback
from types import TracebackType

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from intake import tracing

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
# Celery's own context fields that hold no exception text and no arguments.
_SAFE_CELERY_FIELDS = ("id", "name", "description", "hostname", "internal")
# A path or URL and its query: a request line, a referer, a request object's repr.
# The query runs to the next space or fragment, whatever it holds: a name like O'Brien has a quote.
_QUERY = re.compile(r"((?:[a-z][a-z0-9+.-]*://[^\s/?#\"'<>]*)?/[^\s?#\"'<>]*)\?[^\s#]*", re.IGNORECASE)
# gunicorn's access line names the response's headers as atoms; ours carries the request id.
_GUNICORN_REQUEST_ID = "{x-request-id}o"
# gunicorn's line for a request it could not read quotes the unreadable part of it (a request
# line whose query has spaces), with no "?" left to find.
_GUNICORN_INVALID = "Invalid request from "
_QUOTED = re.compile(r"(['\"]).*\1")


def without_query(text: str) -> str:
    """`text` with the query string of every path or URL in it removed."""
    return _QUERY.sub(r"\1", text) if "?" in text else text


# A patient's follow-up link is its own key (clinic.web.patient): whoever reads a log line with
# it could open the form until it expires. Its token never reaches a log; the path keeps "/f/…".
_FOLLOW_UP_TOKEN = re.compile(r"(/f/)[^\s/?#\"'<>]{8,}")


def without_secrets(text: str) -> str:
    """`text` with every query string and every follow-up link's token removed."""
    text = without_query(text)
    return _FOLLOW_UP_TOKEN.sub(r"\1…", text) if "/f/" in text else text


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
    """Stamps every record with the request id of the work under way. Django logs a 4xx or 5xx
    response (django.request) after the middleware returned it, and gunicorn its access line
    after the response was sent: their ids come from the request and the response."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = tracing.current() or _request_id_of(record) or None
        return True


def _request_id_of(record: logging.LogRecord) -> str | None:
    request_id = getattr(getattr(record, "request", None), "request_id", None)
    if request_id is None and record.name == "gunicorn.access" and isinstance(record.args, dict):
        request_id = record.args.get(_GUNICORN_REQUEST_ID)
    return request_id if request_id and request_id != "-" else None


class WithholdPatientData(logging.Filter):
    """Celery's task failure and retry lines print the exception's text and the task's
    arguments: keep the task's name and id and the exception's type only. Every line loses
    its query strings, and Django's request object (whose repr holds the full path) becomes
    its method and path."""

    def filter(self, record: logging.LogRecord) -> bool:
        self._withhold_celery_values(record)
        request = record.__dict__.pop("request", None)
        if request is not None and hasattr(request, "path") and hasattr(request, "method"):
            record.request = without_secrets(f"{request.method} {request.path}")
        if isinstance(getattr(record, "path", None), str):
            record.path = without_secrets(record.path)
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            return True  # a malformed call: the handler reports it, with no message to leak
        if record.name == "gunicorn.error" and message.startswith(_GUNICORN_INVALID):
            record.msg, record.args = _QUOTED.sub("'…'", message), None
        elif "?" in message or "/f/" in message:
            record.msg, record.args = without_secrets(message), None
        return True

    @staticmethod
    def _withhold_celery_values(record: logging.LogRecord) -> None:
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


# http.server's request line (BaseHTTPRequestHandler.log_request), which runserver logs as django.server.
_RUNSERVER_REQUEST_LINE = '"%s" %s %s'


class OneLinePerRequest(logging.Filter):
    """clinic.requests logs every request Django answers, with its request id, user and time; runserver
    then logs the same request again. Drop runserver's request lines (as gunicorn's access lines are
    off by default) and keep its others: a request it could not read never reached Django, and its
    error line ("code 400, message Bad request syntax") is that request's one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != _RUNSERVER_REQUEST_LINE


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
            "one_line_per_request": {"()": OneLinePerRequest},
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
        "loggers": {
            # Axes reports every reset at INFO; lock-outs come at WARNING.
            "axes": {"level": "WARNING"},
            # Django's defaults give these loggers handlers of their own (the console with
            # DEBUG on, mail to ADMINS, runserver's lines), which print the full path and
            # skip our filters: every line goes through the one handler above instead.
            "django": {"handlers": [], "propagate": True},
            "django.server": {"handlers": [], "propagate": True, "filters": ["one_line_per_request"]},
        },
    }


def gunicorn_logging_config(*, fmt: str, level: str, access_log: str | None) -> dict:
    """gunicorn's logconfig_dict: its error lines and (with GUNICORN_ACCESS_LOG, "-" for the
    console or a file's path) its access lines through the same format and filters."""
    config = logging_config(fmt=fmt, level=level)
    access: dict = {"handlers": [], "propagate": True, "level": "INFO" if access_log else "WARNING"}
    if access_log and access_log != "-":
        config["handlers"]["access_file"] = {
            **config["handlers"]["console"],
            "class": "logging.FileHandler",
            "filename": access_log,
        }
        access |= {"handlers": ["access_file"], "propagate": False}
    config["loggers"] |= {"gunicorn.error": {"handlers": [], "propagate": True}, "gunicorn.access": access}
    return config
