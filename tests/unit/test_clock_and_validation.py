import pytest

from toolkit.sandbox.clock import Clock, ClockAtEnd
from toolkit.sandbox.errors import describe_validation_errors


def test_clock_moves_forward_only():
    clock = Clock()
    before = clock.now_ms()
    after = clock.advance(hours=2)
    assert after - before >= 2 * 3_600_000
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(hours=-1)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance_to(before)
    target = after + 10_000_000
    assert clock.advance_to(target) >= target


def test_a_held_clock_stands_still_and_stops_at_its_end():
    saved = []
    clock = Clock(1_767_225_600_000, saved.append, held=True, end_ms=1_767_225_600_000 + 48 * 3_600_000)
    assert clock.now_ms() == clock.now_ms() == 1_767_225_600_000  # the wall clock does not move it
    assert clock.advance(hours=47) == 1_767_225_600_000 + 47 * 3_600_000 and saved == [clock.now_ms()]
    with pytest.raises(ClockAtEnd) as past:
        clock.advance(hours=2)
    assert str(past.value) == (
        "the replay ends at 2026-01-03 00:00 UTC; the clock cannot pass it (now 2026-01-02 23:00)"
    )
    with pytest.raises(ClockAtEnd):
        clock.advance_to(1_767_225_600_000 + 49 * 3_600_000)
    assert clock.now_ms() == 1_767_225_600_000 + 47 * 3_600_000 and len(saved) == 1  # nothing moved
    assert clock.advance_to(clock.end_ms) == clock.end_ms


def test_validation_messages_never_echo_input():
    errors = [
        {"type": "string_too_short", "loc": ("body", "password"), "msg": "too short", "input": "hunter2"},
        {"type": "value_error", "loc": ("body", "email"), "msg": "Value error, bad email", "input": "x"},
    ]
    text = describe_validation_errors(errors)
    assert text == "password: too short; email: bad email"
    assert "hunter2" not in text


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"type": "json_invalid", "loc": ("body", 1)}, "Malformed JSON body"),
        ({"type": "missing", "loc": ("body",)}, "Request body is required (a JSON object)"),
        ({"type": "model_attributes_type", "loc": ("body",)}, "Request body must be a JSON object"),
    ],
)
def test_body_level_errors(error, expected):
    assert describe_validation_errors([error]) == expected
