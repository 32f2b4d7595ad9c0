import pytest

from toolkit.sandbox.clock import Clock
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
