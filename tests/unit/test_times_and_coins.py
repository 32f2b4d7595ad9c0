"""Times and coin names as users type them: one unit (ms, UTC) and the venue's own coin names."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from toolkit.frames import coins
from toolkit.times import to_ms

NEW_YEAR = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 1),  # naive: UTC
        datetime(2026, 1, 1, tzinfo=UTC),
        date(2026, 1, 1),
        "2026-01-01",
        "2026-01-01T00:00:00Z",
        "2026-01-01T01:00:00+01:00",
        pd.Timestamp("2026-01-01"),
        pd.Timestamp("2026-01-01", tz="UTC"),
        np.datetime64("2026-01-01T00:00"),
        np.datetime64("2026-01-01T00:00:00.000000000"),
        NEW_YEAR,
        float(NEW_YEAR),
        np.int64(NEW_YEAR),
    ],
)
def test_every_way_of_writing_a_time_is_the_same_millisecond(value):
    assert to_ms(value) == NEW_YEAR


def test_a_time_in_seconds_is_refused_with_what_it_would_mean():
    seconds = time.time() - 86_400
    with pytest.raises(ValueError) as err:
        to_ms(seconds, "start")
    text = str(err.value)
    assert text.startswith(f"start={seconds!r} read as milliseconds is 1970-01-")
    assert "a time in seconds" in text and "Give milliseconds (seconds x 1000)" in text
    assert to_ms(0) == 0  # the epoch itself: "from the beginning"


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (True, TypeError, "start must be a time, not a bool (True)"),
        (None, TypeError, "start must be a time, not None"),
        ("yesterday", ValueError, "start='yesterday' is not a time: give ISO 8601 text"),
        (float("nan"), ValueError, "start must be a finite time, not nan"),
        (np.datetime64("NaT"), ValueError, "start is NaT, not a time"),
        ([1], TypeError, "cannot read start=[1] as a time"),
    ],
)
def test_what_is_not_a_time(value, error, message):
    with pytest.raises(error, match=re.escape(message)):
        to_ms(value, "start")


HYPERLIQUID = ["BTC", "ETH", "SOL", "kPEPE", "ARB"]


@pytest.mark.parametrize(
    ("typed", "coin"),
    [("btc", "BTC"), ("BTC", "BTC"), (" eth ", "ETH"), ("BTC-PERP", "BTC"), ("BTC/USDC:USDC", "BTC"),
     ("ETH-USD", "ETH"), ("solusdt", "SOL"), ("KPEPE", "kPEPE"), ("kpepe-perp", "kPEPE"), ("ARB_PERP", "ARB")],
)  # fmt: skip
def test_coin_names_as_typed(typed, coin):
    assert coins.resolve(typed, HYPERLIQUID, "Hyperliquid") == coin


def test_unknown_coins_say_what_is_near():
    with pytest.raises(ValueError, match=r"^Unknown coin 'BTX' on Hyperliquid; did you mean BTC\?$"):
        coins.resolve("BTX", HYPERLIQUID, "Hyperliquid")
    with pytest.raises(ValueError, match=r"^Unknown coin 'DOGE' on Hyperliquid$"):
        coins.resolve("DOGE", HYPERLIQUID, "Hyperliquid")
    with pytest.raises(ValueError, match="a coin name is text"):
        coins.resolve("  ", HYPERLIQUID, "Hyperliquid")
