"""Unit tests of the twin's fault spec parser and fault picker."""

from __future__ import annotations

import pytest

from offline.spotify_twin.errors import FaultSpecError
from offline.spotify_twin.faults import DEFAULT_TIMEOUT_S, Fault, FaultInjector, FaultSpec, parse_faults


def test_when_spec_lists_every_key_then_all_are_parsed() -> None:
    spec = parse_faults(
        "429=0.05, 500=0.02,502=0.01,503=0.01,reset=0.01,timeout=0.01,"
        "latency_ms=30,timeout_s=2.5,expire_token_after=200"
    )

    assert dict(spec.probabilities) == {
        Fault.TOO_MANY_REQUESTS: 0.05, Fault.SERVER_ERROR: 0.02, Fault.BAD_GATEWAY: 0.01,
        Fault.SERVICE_UNAVAILABLE: 0.01, Fault.RESET: 0.01, Fault.TIMEOUT: 0.01,
    }
    assert spec.latency_ms == 30
    assert spec.timeout_s == 2.5
    assert spec.expire_token_after == 200


@pytest.mark.parametrize("text", ["", "   ", None])
def test_when_spec_is_empty_then_no_faults(text: str | None) -> None:
    spec = parse_faults(text)

    assert spec == FaultSpec()
    assert spec.is_empty
    assert spec.timeout_s == DEFAULT_TIMEOUT_S


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("418=0.1", "418", "unknown key"),
        ("429=lots", "429", "not a number"),
        ("429=1.5", "429", "between 0 and 1"),
        ("reset=-0.1", "reset", "between 0 and 1"),
        ("latency_ms=-5", "latency_ms", ">= 0"),
        ("timeout_s=nan", "timeout_s", "finite"),
        ("expire_token_after=2.5", "expire_token_after", "whole number"),
        ("expire_token_after=0", "expire_token_after", "whole number"),
        ("429=0.1,429=0.2", "429", "given twice"),
        ("429", "429", "key=value"),
        ("429=0.1,,500=0.1", "", "empty entry"),
        ("429=0.6,500=0.6", "probabilities", "more than 1"),
    ],
)
def test_when_spec_is_malformed_then_error_names_the_key(text: str, key: str, reason: str) -> None:
    with pytest.raises(FaultSpecError) as caught:
        parse_faults(text)

    assert caught.value.key == key
    assert reason in str(caught.value)


def test_when_same_seed_then_same_fault_sequence() -> None:
    spec = parse_faults("429=0.3,500=0.2,reset=0.1")

    a, b = FaultInjector(spec, seed=7), FaultInjector(spec, seed=7)
    sequence_a = [a.draw() for _ in range(200)]
    sequence_b = [b.draw() for _ in range(200)]

    assert sequence_a == sequence_b
    assert {Fault.TOO_MANY_REQUESTS, Fault.SERVER_ERROR, Fault.RESET, None} == set(sequence_a)


def test_when_seed_differs_then_fault_sequence_differs() -> None:
    spec = parse_faults("429=0.5")

    a, b = FaultInjector(spec, seed=1), FaultInjector(spec, seed=2)

    assert [a.draw() for _ in range(64)] != [b.draw() for _ in range(64)]


def test_when_probability_is_one_then_every_draw_faults() -> None:
    injector = FaultInjector(parse_faults("429=1.0"), seed=0)

    assert all(injector.draw() is Fault.TOO_MANY_REQUESTS for _ in range(500))


def test_when_no_probabilities_then_never_faults() -> None:
    injector = FaultInjector(parse_faults("latency_ms=5,expire_token_after=3"), seed=0)

    assert all(injector.draw() is None for _ in range(100))
