"""Logging for activities: one line per record, UTC ISO time, secrets redacted.

Batch turns stdout/stderr into ``stdout.txt``/``stderr.txt`` next to the ADF activity run, so what
is logged is visible to everyone who can read the run: every value passed to
:func:`register_secret` is replaced by ``***`` before a record is written.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from datetime import UTC, datetime
from typing import TextIO

from activities.common.context import SecureString

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()  # longest first, so a secret containing another is replaced whole

# Well-known secret shapes, redacted even if nobody registered them (defence in depth).
_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(AccountKey=)[^;\s\"']+", re.IGNORECASE),
    re.compile(r"(SharedAccessSignature=)[^;\s\"']+", re.IGNORECASE),
    re.compile(r"([?&]sig=)[^&\s\"']+", re.IGNORECASE),
    re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
    re.compile(r"(Basic\s+)[A-Za-z0-9+/=]{8,}"),
    re.compile(r"(\"?(?:access_token|client_secret)\"?\s*[:=]\s*\"?)[^\"&\s,}]+", re.IGNORECASE),
)

_CONFIGURED = "_activities_logging_configured"


def register_secret(value: str | SecureString) -> None:
    """Make every later log record (and :func:`redact`) replace ``value`` with ``***``."""
    global _secrets
    text = value.reveal() if isinstance(value, SecureString) else value
    if not text:
        return  # an empty string would "match" everywhere
    with _lock:
        if text not in _secrets:
            _secrets = tuple(sorted({*_secrets, text}, key=len, reverse=True))


def redact(text: str) -> str:
    """Return ``text`` with registered secrets and well-known secret shapes replaced by ``***``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    for pattern in _PATTERNS:
        text = pattern.sub(r"\1***", text)
    return text


def contains_secret(text: str) -> bool:
    """True if ``text`` holds a registered secret value."""
    return any(secret in text for secret in _secrets)


def one_line(text: str) -> str:
    """Collapse line breaks so a record (or an error message) stays one line in stdout.txt."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " | ")


class RedactingFilter(logging.Filter):
    """Rewrite a record's message (and exception text) with secrets replaced by ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class _OneLineFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, tz=UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        # Redact again: a handler added without the filter must not leak either.
        return one_line(redact(super().format(record)))


class _StdStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the *current* sys.stdout/sys.stderr (looked up per record, so captured streams work)."""

    def __init__(self, stream_name: str) -> None:
        self._stream_name = stream_name
        super().__init__()

    @property
    def stream(self) -> TextIO:
        stream: TextIO = getattr(sys, self._stream_name)
        return stream

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # always the current sys stream


class _BelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


def get_logger(name: str) -> logging.Logger:
    """Return a logger writing INFO to stdout and WARNING+ to stderr, one redacted line per record."""
    logger = logging.getLogger(name)
    if getattr(logger, _CONFIGURED, False):
        return logger
    formatter = _OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    out = _StdStreamHandler("stdout")
    out.setLevel(logging.DEBUG)
    out.addFilter(_BelowWarning())
    err = _StdStreamHandler("stderr")
    err.setLevel(logging.WARNING)
    for handler in (out, err):
        handler.addFilter(RedactingFilter())
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # our handlers already wrote it; the root logger must not repeat it
    setattr(logger, _CONFIGURED, True)
    # The Azure SDK logs every HTTP request at INFO; keep stdout.txt for the activity's own progress.
    logging.getLogger("azure").setLevel(logging.WARNING)
    return logger


__all__ = ["RedactingFilter", "contains_secret", "get_logger", "one_line", "redact", "register_secret"]
