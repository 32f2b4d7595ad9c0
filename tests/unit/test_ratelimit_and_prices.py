"""Pure pieces behind PaperExchange's plans: the per-minute windows and the checkout prices."""

from __future__ import annotations

from decimal import Decimal

from toolkit.sandbox.billing import price
from toolkit.sandbox.ratelimit import FixedWindows


def test_a_window_counts_to_its_limit_then_refuses_until_the_next_minute():
    now = [120.0]
    windows = FixedWindows(60, now=lambda: now[0])
    verdicts = [windows.hit("k", 3) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts] == [2, 1, 0, 0]
    assert {v.reset for v in verdicts} == {180}
    now[0] = 150.5
    refused = windows.hit("k", 3)
    assert (
        not refused.allowed and refused.headers(now[0])["Retry-After"] == "30"
    )  # rounded up: never too early
    assert windows.hit("other", 3).allowed  # keys do not share
    now[0] = 180.0
    fresh = windows.hit("k", 3)
    assert fresh.allowed and fresh.remaining == 2 and fresh.reset == 240
    assert "Retry-After" not in fresh.headers(now[0])


def test_prices_with_the_first_month_discount():
    assert price("pro", first_payment=True) == (Decimal("30.00"), Decimal("50.00"))
    assert price("pro", first_payment=False) == (Decimal("50.00"), Decimal("50.00"))
    assert price("basic", first_payment=True) == (Decimal("12.00"), Decimal("20.00"))
