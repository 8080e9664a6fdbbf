"""One id per request or Celery task: on the response, on every log line, in JSON when LOG_FORMAT=json."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import re
import subprocess
import sys
from copy import deepcopy

import pytest
from celery import shared_task
from django.conf import settings
from django.urls import reverse

from tests.paths import REPO
from tollgate.logging import RequestId
from tollgate.request_id import current_request_id, request_id_bind, request_id_unbind

pytestmark = pytest.mark.django_db

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def log_lines():
    """What the console handler of the settings (its filters, the JSON formatter) prints for django.request and
    this module's logger, as parsed JSON objects."""
    stream = io.StringIO()
    config = deepcopy(settings.LOGGING)
    handler = logging.StreamHandler(stream)
    for name in ("request_id", "refusals_in_one_line"):
        handler.addFilter(logging.config.DictConfigurator(config).configure_filter(config["filters"][name]))
    handler.setFormatter(logging.config.DictConfigurator(config).configure_formatter(config["formatters"]["json"]))
    loggers = [logging.getLogger("django.request"), logging.getLogger(__name__)]
    for logger in loggers:
        logger.addHandler(handler)
    logging.getLogger(__name__).setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def test_a_request_gets_a_new_id_on_its_response(client):
    first = client.get(reverse("health_live"))["X-Request-ID"]
    second = client.get(reverse("health_live"))["X-Request-ID"]
    assert HEX_ID.fullmatch(first) and HEX_ID.fullmatch(second) and first != second


def test_a_sane_id_from_the_caller_or_proxy_is_kept(client):
    given = "4bf92f35-77b3-4da6-a3ce-929d0e0e4736"
    assert client.get(reverse("health_live"), HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given


@pytest.mark.parametrize("given", ["two words", "x" * 129, "line\nbreak", '{"level": "ERROR"}', ""])
def test_an_id_that_could_forge_a_log_line_is_replaced(client, given):
    assert HEX_ID.fullmatch(client.get(reverse("health_live"), HTTP_X_REQUEST_ID=given)["X-Request-ID"])


def test_a_refusal_is_one_json_line_with_the_request_id(client, executive, log_lines):
    client.force_login(executive)
    response = client.get(reverse("portfolio:initiative_create"), HTTP_X_REQUEST_ID="req-403-check")
    assert response.status_code == 403 and response["X-Request-ID"] == "req-403-check"
    [line] = log_lines()
    assert line["request_id"] == "req-403-check"
    assert line["level"] == "WARNING" and line["logger"] == "django.request" and line["status_code"] == 403
    assert line["message"].startswith("Forbidden") and "exc_info" not in line  # still one line, no traceback
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*", line["time"])


def test_outside_a_request_the_id_is_empty_and_none_leaks_from_a_previous_request(client, log_lines):
    client.get(reverse("health_live"))
    logging.getLogger(__name__).info("between requests")
    assert current_request_id() is None
    assert [line["request_id"] for line in log_lines()] == [None]


@shared_task
def _log_from_a_task() -> str | None:
    logging.getLogger(__name__).info("inside a task")
    return current_request_id()


def test_a_celery_task_logs_with_its_task_id(log_lines):
    result = _log_from_a_task.apply(task_id="task-7f3a")
    assert result.get() == "task-7f3a"
    assert [line["request_id"] for line in log_lines()] == ["task-7f3a"]
    assert current_request_id() is None  # unbound when the task ends


def test_a_task_run_in_process_inside_a_request_keeps_the_requests_id():
    token = request_id_bind("the-request")
    try:
        assert _log_from_a_task.apply(task_id="task-inside").get() == "the-request"
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "after the task", None, None)
        RequestId().filter(record)
        assert record.request_id == "the-request"
    finally:
        request_id_unbind(token)


def _start(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tollgate.settings", "SECRET_KEY": "k" * 60, **env}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=environment, capture_output=True, text=True,
                          timeout=120)


LOG_ONE_LINE = "import django, logging; django.setup(); logging.getLogger('tollgate.check').warning('disk %s', 'full')"


def test_log_format_json_makes_every_line_a_json_object():
    started = _start(LOG_ONE_LINE, LOG_FORMAT="json")
    assert started.returncode == 0, started.stderr
    line = json.loads(started.stderr.strip().splitlines()[-1])
    assert line["message"] == "disk full" and line["level"] == "WARNING" and line["logger"] == "tollgate.check"
    assert "request_id" in line and "time" in line


def test_by_default_lines_stay_plain_text():
    started = _start(LOG_ONE_LINE, LOG_FORMAT="")
    assert started.returncode == 0, started.stderr
    assert started.stderr.strip().splitlines()[-1] == "disk full"


def test_an_unknown_log_format_is_refused():
    refused = _start(LOG_ONE_LINE, LOG_FORMAT="xml")
    assert refused.returncode != 0 and "LOG_FORMAT must be plain or json" in refused.stderr
