"""Until and Web in the local runner, run on the gallery-style factory (tests/fixtures/adf_gallery_style) against a
REST service on 127.0.0.1. Rules: Learn "Until activity" (https://learn.microsoft.com/azure/data-factory/control-flow-
until-activity: expression evaluated after the inner activities, inner failures do not stop the loop, timeout default
seven days, at most 90), Learn "Web activity" (https://learn.microsoft.com/azure/data-factory/control-flow-web-activity:
methods, body for POST/PUT/PATCH, httpRequestTimeout default 00:01:00 and at most 00:10:00, datasets/linkedServices in
the payload, JSON responses), Learn "Troubleshoot Azure Data Factory", Web Activity (2108 for an error status, 2128
when nothing answers). Only the clock and sleeping are faked."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from activities.common.secrets import env_var_name
from activities.common.storage import LocalFolderStorage
from offline.adf_runner import LocalFactoryRunner, RunnerOptions, load_factory
from offline.adf_runner.errors import ActivityDefinitionError, NonLoopbackUrlError, UnsupportedActivityFeatureError
from offline.adf_runner.monitor import ActivityRun, PipelineRun
from tests.fake_clock import FakeClock
from tests.gallery_style import GALLERY, copy_gallery, edit_gallery

PASSWORD = "s3cret-for-the-status-api"


Route = Callable[["_Handler", bytes], tuple[int, dict[str, str], bytes]]


class ExportService:
    """A small REST service: POST /api/exports starts an export, GET /api/exports/<id> reports it (`running` for
    the first `running_polls` polls, then `done`), PUT /api/reports/<id> records a report."""

    def __init__(self, running_polls: int = 2, failing_polls: int = 0) -> None:
        self.running_polls, self.failing_polls = running_polls, failing_polls
        self.requests: list[dict[str, Any]] = []
        self.polls = 0
        self.extra: dict[tuple[str, str], Route] = {}

    def answer(self, handler: _Handler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        method, path = handler.command, handler.path
        self.requests.append({"method": method, "path": path, "headers": handler.headers, "body": body})
        if (method, path) in self.extra:
            return self.extra[(method, path)](handler, body)
        if method == "POST" and path == "/api/exports":
            return 201, {"X-Request-Id": "req-1"}, json.dumps({"exportId": "exp-42", "status": "queued"}).encode()
        if method == "GET" and path == "/api/exports/exp-42":
            self.polls += 1
            if self.polls <= self.failing_polls:
                return 503, {}, b'{"error": "busy"}'
            status = "running" if self.polls <= self.running_polls else "done"
            return 200, {}, json.dumps({"exportId": "exp-42", "status": status}).encode()
        if method == "PUT" and path.startswith("/api/reports/"):
            return 200, {}, b"recorded"
        return 404, {}, b'{"error": "no such route"}'


class _Handler(BaseHTTPRequestHandler):
    service: ExportService

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        status, headers, body = self.service.answer(self, self.rfile.read(length) if length else b"")
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture()
def service() -> Iterator[tuple[ExportService, str]]:
    state = ExportService()
    handler = type("Handler", (_Handler,), {"service": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def _runner(tmp_path: Path, clock: FakeClock, factory_dir: Path = GALLERY) -> LocalFactoryRunner:
    root = tmp_path / "storage"
    root.mkdir(exist_ok=True)
    factory = load_factory(factory_dir, overrides={
        "Ls_Lake": {"typeProperties.serviceEndpoint": root.as_uri()},
        "Ls_Vault": {"typeProperties.baseUrl": "env:"},
    })
    return LocalFactoryRunner(factory, LocalFolderStorage(root), tmp_path / "work", clock=clock,
                              options=RunnerOptions(), watched_containers=())


def _activities(runner: LocalFactoryRunner, run: PipelineRun) -> list[ActivityRun]:
    return runner.monitor.activity_runs(run.runId)


def _last(runner: LocalFactoryRunner, run: PipelineRun, name: str) -> ActivityRun:
    return [a for a in _activities(runner, run) if a.activityName == name][-1]


@pytest.fixture(autouse=True)
def _vault_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(env_var_name("status-api-password"), PASSWORD)


def test_when_the_export_finishes_on_the_third_poll_then_until_stops_and_web_outputs_are_adfs(
    tmp_path: Path, service: tuple[ExportService, str]
) -> None:
    # Arrange
    state, url = service
    clock = FakeClock()
    runner = _runner(tmp_path, clock)

    # Act
    (run,) = runner.run_pipeline("PL_Export_And_Wait", {"serviceUrl": url}).runs

    # Assert
    assert run.status == "Succeeded", run.message
    polls = [a for a in _activities(runner, run) if a.activityName == "Get export status"]
    assert [p.output["status"] for p in polls] == ["running", "running", "done"]  # evaluated after each iteration
    assert clock.sleeps.count(15) == 3  # the Wait ran in every iteration
    started = _last(runner, run, "Start export").output
    assert started["exportId"] == "exp-42" and started["status"] == "queued"  # the JSON body's keys, at the top
    assert started["ADFWebActivityResponseHeaders"]["X-Request-Id"] == "req-1"
    assert _last(runner, run, "Report export").output["Response"] == "recorded"  # not JSON: the text
    post, *_, report = state.requests
    assert json.loads(post["body"]) == {"entity": "tracks", "format": "parquet"}
    assert post["headers"]["x-ms-client-request-id"] == run.runId
    sent = json.loads(report["body"])
    assert (sent["status"], sent["polls"]) == ("done", 3)
    assert [d["name"] for d in sent["datasets"]] == ["ExportedFiles"]
    assert [s["name"] for s in sent["linkedServices"]] == ["Ls_Lake"]
    assert report["headers"]["Authorization"] == "Basic " + base64.b64encode(f"pipeline:{PASSWORD}".encode()).decode()
    recorded = json.dumps([a.input for a in _activities(runner, run)] + [a.output for a in _activities(runner, run)])
    assert PASSWORD not in recorded


def test_when_a_poll_fails_then_until_goes_on_and_fails_at_the_end(tmp_path: Path, service: tuple[ExportService, str]) -> None:
    state, url = service
    state.failing_polls = 1
    runner = _runner(tmp_path, FakeClock())

    (run,) = runner.run_pipeline("PL_Export_And_Wait", {"serviceUrl": url}).runs

    assert run.status == "Failed"
    polls = [a for a in _activities(runner, run) if a.activityName == "Get export status"]
    assert [p.status for p in polls] == ["Failed", "Succeeded", "Succeeded"]
    assert polls[0].error is not None and polls[0].error.errorCode == "2108"
    assert f"Error calling the endpoint '{url}/exports/exp-42'. Response status code: '503'" in polls[0].error.message
    until = _last(runner, run, "Until export is done")
    assert until.status == "Failed" and until.error is not None
    assert "Get export status" in until.error.message
    assert _last(runner, run, "Report export").status == "Skipped"


def test_when_the_export_never_finishes_then_until_fails_when_its_timeout_elapses(
    tmp_path: Path, service: tuple[ExportService, str]
) -> None:
    state, url = service
    state.running_polls = 10**6
    clock = FakeClock()
    runner = _runner(tmp_path, clock)

    (run,) = runner.run_pipeline("PL_Export_And_Wait", {"serviceUrl": url}).runs

    until = _last(runner, run, "Until export is done")
    assert until.status == "Failed" and until.error is not None
    assert until.error.errorCode == "ActivityTimeout"
    assert "0:10:00" in until.error.message
    assert state.polls == 40  # 15 s per iteration: the 40th ends at 10 minutes
    assert run.status == "Failed"


def test_when_a_web_url_names_a_remote_host_then_validation_refuses_it_by_name(tmp_path: Path) -> None:
    factory = copy_gallery(tmp_path)
    edit_gallery(factory, "pipeline/PL_Export_And_Wait.json", '"@{pipeline().parameters.serviceUrl}/exports"',
          '"https://api.example.com/exports"')
    runner = _runner(tmp_path, FakeClock(), factory)

    with pytest.raises(NonLoopbackUrlError, match="`api.example.com` is not a loopback address"):
        runner.run_pipeline("PL_Export_And_Wait")
    assert runner.monitor.activity_runs() == []  # refused before anything ran


def test_when_a_parameter_points_web_at_a_remote_host_then_the_run_is_refused_and_recorded(tmp_path: Path) -> None:
    runner = _runner(tmp_path, FakeClock())

    with pytest.raises(NonLoopbackUrlError, match="`status.contoso.com`"):
        runner.run_pipeline("PL_Export_And_Wait", {"serviceUrl": "https://status.contoso.com/api?sig=abc"})

    (run,) = runner.monitor.pipeline_runs()
    assert run.status == "Failed"
    assert "sig=abc" not in run.message  # the host is named, not the whole URL (it may carry a token)


@pytest.mark.parametrize(("old", "new", "error", "message"), [
    ('"type": "Basic"', '"type": "MSI", "resource": "https://management.azure.com/"', UnsupportedActivityFeatureError,
     "authentication type `MSI`"),
    ('"httpRequestTimeout": "00:02:00"', '"httpRequestTimeout": "00:15:00"', ActivityDefinitionError, "from 00:01:00 to 00:10:00"),
    ('"httpRequestTimeout": "00:02:00"', '"httpRequestTimeout": "00:00:59"', ActivityDefinitionError, "from 00:01:00"),
    ('"timeout": "0.00:10:00",\n', '"timeout": "0:10:00",\n', ActivityDefinitionError, "not a d.hh:mm:ss or hh:mm:ss"),
    ('"method": "PUT"', '"method": "OPTIONS"', ActivityDefinitionError, "method 'OPTIONS' is not one of"),
    ('"body": {"value": "{', '"payload": {"value": "{', ActivityDefinitionError, "a POST needs typeProperties.body"),
    ('"timeout": "0.00:10:00",\n', '"timeout": "91.00:00:00",\n', ActivityDefinitionError, "beyond ADF's maximum of 90 days"),
])
def test_when_an_activity_asks_for_what_adf_or_the_runner_refuses_then_validation_names_it(
    tmp_path: Path, old: str, new: str, error: type[Exception], message: str
) -> None:
    factory = copy_gallery(tmp_path)
    edit_gallery(factory, "pipeline/PL_Export_And_Wait.json", old, new)

    with pytest.raises(error, match=message):
        _runner(tmp_path, FakeClock(), factory).run_pipeline("PL_Export_And_Wait")


def test_when_nothing_answers_then_web_fails_with_2128(tmp_path: Path) -> None:
    # A port nobody listens on: the request gets no response (as when httpRequestTimeout, at least a minute, elapses).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/api"
    runner = _runner(tmp_path, FakeClock())

    (run,) = runner.run_pipeline("PL_Export_And_Wait", {"serviceUrl": url}).runs

    start = _last(runner, run, "Start export")
    assert start.status == "Failed" and start.error is not None
    assert start.error.errorCode == "2128"
    assert start.error.message.startswith(f"No response from the endpoint '{url}/exports' within 0:02:00")
    assert run.status == "Failed"


def test_when_the_service_answers_202_then_web_polls_the_location_until_it_is_done(
    tmp_path: Path, service: tuple[ExportService, str]
) -> None:
    state, url = service
    answers = iter([(202, {"Location": "/api/operations/1", "Retry-After": "5"}, b""),
                    (202, {"Location": "/api/operations/1", "Retry-After": "5"}, b""),
                    (200, {}, b'{"exportId": "exp-42", "status": "queued"}')])
    state.extra[("POST", "/api/exports")] = lambda handler, body: next(answers)
    state.extra[("GET", "/api/operations/1")] = lambda handler, body: next(answers)
    clock = FakeClock()
    runner = _runner(tmp_path, clock)

    (run,) = runner.run_pipeline("PL_Export_And_Wait", {"serviceUrl": url}).runs

    assert run.status == "Succeeded", run.message
    assert [r["path"] for r in state.requests[:3]] == ["/api/exports", "/api/operations/1", "/api/operations/1"]
    assert clock.sleeps[:2] == [5.0, 5.0]


def test_when_the_service_redirects_off_the_machine_then_the_runner_refuses_to_follow(
    tmp_path: Path, service: tuple[ExportService, str]
) -> None:
    state, url = service
    state.extra[("POST", "/api/exports")] = lambda handler, body: (307, {"Location": "https://exports.contoso.com/x"}, b"")
    runner = _runner(tmp_path, FakeClock())

    with pytest.raises(NonLoopbackUrlError, match="`exports.contoso.com`"):
        runner.run_pipeline("PL_Export_And_Wait", {"serviceUrl": url})
    (start,) = [a for a in runner.monitor.activity_runs() if a.activityName == "Start export"]
    assert start.status == "Failed"  # recorded, never left InProgress
