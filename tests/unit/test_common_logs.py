"""activities.common.logs: one redacted line per record, INFO to stdout, WARNING+ to stderr."""

from __future__ import annotations

import re

import pytest

from activities.common import get_logger, redact, register_secret
from activities.common.context import SecureString


def test_when_a_registered_secret_is_logged_then_only_stars_appear(capsys: pytest.CaptureFixture[str]) -> None:
    # Arrange
    register_secret("log-test-secret-9")
    logger = get_logger("activities.test.redaction")

    # Act
    logger.info("calling with %s and %r", "log-test-secret-9", {"key": "log-test-secret-9"})

    # Assert
    out = capsys.readouterr().out
    assert "log-test-secret-9" not in out
    assert "calling with *** and {'key': '***'}" in out


def test_when_a_record_spans_lines_then_it_is_written_as_one_utc_line(capsys: pytest.CaptureFixture[str]) -> None:
    # Arrange
    logger = get_logger("activities.test.oneline")

    # Act
    logger.info("first\nsecond\r\nthird")

    # Assert
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO activities\.test\.oneline: first \| second \| third$",
                    lines[0])


def test_when_a_warning_is_logged_then_it_goes_to_stderr_not_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    # Arrange
    logger = get_logger("activities.test.levels")

    # Act
    logger.info("progress")
    logger.warning("trouble")

    # Assert
    captured = capsys.readouterr()
    assert "progress" in captured.out and "trouble" not in captured.out
    assert "WARNING activities.test.levels: trouble" in captured.err


def test_when_an_exception_with_a_secret_is_logged_then_the_traceback_is_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Arrange
    register_secret(SecureString("log-test-secret-10"))
    logger = get_logger("activities.test.exc")

    # Act
    try:
        raise RuntimeError("bad log-test-secret-10")
    except RuntimeError:
        logger.exception("failed")

    # Assert
    err = capsys.readouterr().err
    assert "log-test-secret-10" not in err
    assert "RuntimeError: bad ***" in err
    assert len(err.splitlines()) == 1


def test_when_text_has_well_known_secret_shapes_then_redact_hides_them() -> None:
    # Act
    text = redact("AccountKey=abc123==;BlobEndpoint=x Authorization: Bearer tok.en-1 ?sv=1&sig=s1g%3D")

    # Assert
    assert "abc123" not in text and "tok.en-1" not in text and "s1g" not in text
    assert "BlobEndpoint=x" in text


def test_when_the_same_logger_is_asked_twice_then_records_are_not_doubled(capsys: pytest.CaptureFixture[str]) -> None:
    # Act
    get_logger("activities.test.twice")
    get_logger("activities.test.twice").info("once")

    # Assert
    assert capsys.readouterr().out.count("once") == 1
