"""Structured logging: JSON lines and the optional request log."""

import json
import logging
import sys

import pytest

from hcserver.logs import JsonFormatter
from tests.factories import CheckFactory


def _record(**extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord(
        {"name": "checks.x", "levelname": "WARNING", "msg": "a %s", "args": ("b",)}
    )
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_formatter_writes_message_level_and_logger():
    entry = json.loads(JsonFormatter().format(_record()))
    assert (entry["message"], entry["level"], entry["logger"]) == (
        "a b",
        "WARNING",
        "checks.x",
    )


def test_json_formatter_keeps_extra_fields():
    entry = json.loads(JsonFormatter().format(_record(check_id=7)))
    assert entry["check_id"] == 7


def test_json_formatter_output_is_one_line():
    try:
        raise ValueError("two\nlines")
    except ValueError:
        record = _record()
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError" in json.loads(line)["exc_info"]


def test_request_log_is_off_by_default(settings):
    assert "hcserver.logs.RequestLogMiddleware" not in settings.MIDDLEWARE


@pytest.mark.django_db
def test_request_log_writes_one_line_per_ping(client, settings, caplog):
    settings.MIDDLEWARE = ["hcserver.logs.RequestLogMiddleware", *settings.MIDDLEWARE]
    check = CheckFactory()
    with caplog.at_level(logging.INFO, logger="hcserver.requests"):
        client.get(f"/ping/{check.code}")
    (record,) = [r for r in caplog.records if r.name == "hcserver.requests"]
    assert (record.method, record.path, record.status) == (
        "GET",
        f"/ping/{check.code}",
        200,
    )
