"""Rate limiter, shard split and the client's token handling under many threads (no sleeping: fake clock)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from activities.extract.ratelimit import RateLimiter
from activities.extract.sharding import owned, shard_of
from tests.scripted_api import FakeClock, ScriptedServer, api_paths, error, make_client, ok, server  # noqa: F401 - server is a fixture


def test_when_requests_exceed_the_burst_then_each_waits_its_turn_at_the_rate() -> None:
    # Arrange
    clock = FakeClock()
    limiter = RateLimiter(10.0, burst=2, monotonic=clock.monotonic, sleep=clock.sleep)

    # Act
    waits = [limiter.acquire() for _ in range(5)]

    # Assert: two from the burst, then one every 0.1 s
    assert waits[:2] == [0.0, 0.0]
    assert waits[2:] == pytest.approx([0.1, 0.1, 0.1])


def test_when_many_threads_share_the_limiter_then_slots_are_handed_out_at_the_rate() -> None:
    # Arrange: the clock only moves by the sleeps, so the total slept is the schedule's length
    clock = FakeClock()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            clock.sleeps.append(seconds)

    limiter = RateLimiter(50.0, burst=1, monotonic=clock.monotonic, sleep=sleep)

    # Act
    threads = [threading.Thread(target=limiter.acquire) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Assert: the n-th caller waits (n-1)/rate; no two share a slot
    assert sorted(round(s, 6) for s in clock.sleeps) == [round(n / 50.0, 6) for n in range(1, 20)]


def test_when_the_rate_is_zero_then_nothing_waits() -> None:
    assert RateLimiter(0).acquire() == 0.0


def test_when_ids_are_split_into_shards_then_each_id_has_exactly_one_stable_owner() -> None:
    # Arrange
    ids = [f"id{n:04d}" for n in range(2000)]

    # Act
    parts = [owned(reversed(ids), index, 4) for index in range(4)]

    # Assert
    assert sorted(i for part in parts for i in part) == ids
    assert all(part == sorted(part) for part in parts)
    assert min(len(part) for part in parts) > 400  # roughly even
    assert [shard_of("uxrQ1NB1OdihPsUYP8RbJr", 4)] * 2 == [shard_of("uxrQ1NB1OdihPsUYP8RbJr", 4) for _ in range(2)]
    assert owned(ids, 0, 1) == ids


def test_when_many_threads_see_the_token_expire_then_it_is_refreshed_once(server: ScriptedServer) -> None:
    # Arrange: the first answer of each thread is 401 (its token expired); then 200
    server.script.answers["/v1/x"] = [error(401, message="The access token expired")] * 1 + [ok(b"{}")]
    client = make_client(server, FakeClock())
    client.get("/x")  # tok-1 refused, tok-2 fetched, then 200s from here on
    issued_before = server.script.tokens_issued
    results: list[Any] = []

    # Act
    threads = [threading.Thread(target=lambda: results.append(client.get("/x").status)) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Assert
    assert results == [200] * 16
    assert issued_before == 2 and server.script.tokens_issued == 2  # one token shared by every thread
    assert Counter(auth for method, _, auth in server.script.requests if method == "GET")["Bearer tok-2"] == 17


def test_when_a_user_source_is_asked_without_a_refresh_token_then_it_is_refused_clearly(
    server: ScriptedServer,
) -> None:
    from activities.extract.errors import FatalError

    with pytest.raises(FatalError, match=r"GET /v1/me needs the user's token, but no refresh token was configured"):
        make_client(server, FakeClock()).get("/me", user=True)
    assert api_paths(server) == []


def test_when_a_user_token_is_requested_then_the_refresh_grant_is_sent_with_basic_auth(
    server: ScriptedServer,
) -> None:
    # Arrange
    from activities.common import SecureString

    server.script.answers["/v1/me"] = [ok(b'{"id": "u"}')]
    bodies: list[bytes] = []
    original = server.RequestHandlerClass.do_POST

    def recording(handler: Any) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        bodies.append(body)
        handler.rfile = __import__("io").BytesIO(body)
        original(handler)

    server.RequestHandlerClass.do_POST = recording  # type: ignore[method-assign]
    try:
        # Act
        response = make_client(server, FakeClock(), refresh_token=SecureString("rt-1")).get("/me", user=True)
    finally:
        server.RequestHandlerClass.do_POST = original  # type: ignore[method-assign]

    # Assert
    assert response.json() == {"id": "u"}
    assert bodies == [b"grant_type=refresh_token&refresh_token=rt-1"]


def test_when_stderr_is_a_terminal_then_progress_is_one_live_line_with_rate_and_eta() -> None:
    # Arrange
    import io

    from activities.extract.progress import Progress

    clock = FakeClock()
    stream = io.StringIO()
    progress = Progress("shard=0", stream=stream, tty=True, tty_interval=0.0, monotonic=clock.monotonic)
    progress.start_stage("level 1", 10)

    # Act
    for _ in range(4):
        clock.now += 0.5
        progress.record(items=20, replayed=False)
    progress.finish()

    # Assert
    last = stream.getvalue().split("\r\x1b[2K")[-1]
    assert last.startswith("shard=0 level 1: 4/10 requests of this stage, 4 fetched + 0 replayed, 80 items")
    assert "2.0 req/s" in last and "stage ETA 3 s" in last and last.endswith("\n")


def test_when_stdout_is_not_a_terminal_then_progress_goes_to_stdout_every_interval(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Arrange
    import io

    from activities.extract.progress import Progress

    clock = FakeClock()
    quiet = io.StringIO()
    progress = Progress("discover", stream=quiet, tty=False, log_interval=10.0, monotonic=clock.monotonic)
    progress.start_stage("level 0", 100)

    # Act
    for _ in range(30):
        clock.now += 1.0
        progress.record(items=1, replayed=False)

    # Assert
    lines = [line for line in capsys.readouterr().out.splitlines() if "progress discover" in line]
    assert quiet.getvalue() == ""
    # The clock moves 1 s per request: one line when 10 s have passed since the last, at the 10th, 20th, 30th.
    assert [line.split("level 0: ", 1)[1].split(" requests")[0] for line in lines] == ["10/100", "20/100", "30/100"]
