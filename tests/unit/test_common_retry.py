"""activities.common.retry: the one retry policy of the Spotify and Atlas clients (pure; nothing sleeps)."""

from __future__ import annotations

import pytest

from activities.common.retry import GiveUp, RetryBudget, RetryPolicy


def test_when_the_server_gives_no_retry_after_then_the_backoff_doubles_with_equal_jitter_up_to_its_ceiling() -> None:
    policy = RetryPolicy(max_attempts=10, backoff_seconds=1.0, max_backoff_seconds=4.0, max_wait_seconds=1000.0)

    lowest = [policy.next_delay(attempt, 0.0, None, jitter=0.0) for attempt in range(1, 6)]
    highest = [policy.next_delay(attempt, 0.0, None, jitter=1.0) for attempt in range(1, 6)]

    assert lowest == [0.5, 1.0, 2.0, 2.0, 2.0]
    assert highest == [1.0, 2.0, 4.0, 4.0, 4.0]


def test_when_the_server_gives_retry_after_then_it_is_waited_as_is_without_jitter() -> None:
    assert RetryPolicy().next_delay(1, 0.0, 7.25, jitter=0.9) == 7.25


def test_when_the_attempts_are_used_up_then_the_reason_counts_them_and_the_wait() -> None:
    with pytest.raises(GiveUp, match=r"^gave up after 3 attempts \(waited 1\.50 s in total\)$"):
        RetryPolicy(max_attempts=3).next_delay(3, 1.5, None, jitter=0.0)


def test_when_the_next_wait_would_pass_the_cap_then_it_is_not_waited() -> None:
    with pytest.raises(GiveUp, match=r"waiting 60\.0 s more would pass the 100 s cap \(waited 50\.0 s\)$"):
        RetryPolicy(max_wait_seconds=100.0).next_delay(2, 50.0, 60.0, jitter=0.0)


def test_when_a_run_wide_budget_is_given_then_it_decides_how_often_and_is_shared() -> None:
    # Arrange: one attempt per request, but two retries for the whole run
    policy, budget = RetryPolicy(max_attempts=1), RetryBudget(2)

    # Act
    delays = [policy.next_delay(attempt, 0.0, 0.0, jitter=0.0, budget=budget) for attempt in (1, 5)]

    # Assert
    assert delays == [0.0, 0.0] and budget.left == 0
    with pytest.raises(GiveUp, match="the run's retry budget is spent"):
        policy.next_delay(1, 0.0, 0.0, jitter=0.0, budget=budget)


def test_when_no_attempt_is_allowed_then_the_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts must be at least 1"):
        RetryPolicy(max_attempts=0)
