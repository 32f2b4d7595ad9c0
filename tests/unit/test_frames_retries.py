"""The loaders' retry policy, through the httpx transport seam every client has: a 429 waits out its
Retry-After, 5xx and dropped reads back off and retry, a refusal is raised at once, and a venue that
cannot be reached fails fast in words. The venue here is a MockTransport playing Hyperliquid's /info."""

from __future__ import annotations

import json

import httpx
import pytest

from toolkit import frames
from toolkit.venues.hyperliquid import HyperliquidError

HOUR = 3_600_000
START = 1_767_225_600_000  # 2026-01-01
META = {"universe": [{"name": "BTC", "szDecimals": 5, "maxLeverage": 40}]}


def rows(n: int) -> list[dict]:
    return [
        {"coin": "BTC", "fundingRate": "0.0000125", "premium": "0.0001", "time": START + h * HOUR}
        for h in range(n)
    ]


def venue(script: list) -> tuple[httpx.MockTransport, list[str]]:
    """A Hyperliquid /info whose fundingHistory answers come from ``script`` in turn (a status and
    headers, or an exception to raise); ``meta`` always answers. Returns it and the log of requests."""
    log: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        log.append(body["type"])
        if body["type"] == "meta":
            return httpx.Response(200, json=META)
        step = script.pop(0) if script else (200, {})
        if isinstance(step, Exception):
            raise step
        status, headers = step
        if status != 200:
            return httpx.Response(
                status, headers=headers, text="null" if status >= 500 else "too many requests"
            )
        return httpx.Response(200, json=rows(24))

    return httpx.MockTransport(handle), log


def loader(transport: httpx.MockTransport, **kw) -> frames.Hyperliquid:
    """A mainnet loader over ``transport``, with a budget of its own (not the process-wide one)."""
    budget = frames.WeightBudget(1200, 60)
    return frames.Hyperliquid(
        "mainnet", transport=transport, cache=False, progress=False, budget=budget, **kw
    )


def fetch(src: frames.Hyperliquid):
    return src.funding_history("BTC", START, START + 23 * HOUR, backend="polars")


def test_a_429_is_waited_out_for_its_retry_after_then_retried():
    transport, log = venue([(429, {"Retry-After": "0.05"})])
    src = loader(transport, backoff=30)  # the backoff would be 30 s: Retry-After must win
    assert fetch(src).height == 24
    assert log == ["meta", "fundingHistory", "fundingHistory"] and src.retries == 1
    assert src.budget.waited < 10  # the 0.05 s asked for, never the 30 s backoff


def test_5xx_and_dropped_reads_back_off_and_retry_up_to_the_limit():
    transport, log = venue([(502, {}), httpx.ReadTimeout("slow"), (503, {})])
    src = loader(transport, backoff=0.001)
    assert fetch(src).height == 24 and src.retries == 3 and log.count("fundingHistory") == 4
    transport, log = venue([(500, {})] * 5)
    with pytest.raises(HyperliquidError) as refused:
        fetch(loader(transport, backoff=0.001, max_retries=2))
    assert refused.value.status == 500 and log.count("fundingHistory") == 3  # the first and two more


def test_a_refusal_is_raised_at_once():
    transport, log = venue([(422, {})])
    src = loader(transport, backoff=0.001)
    with pytest.raises(HyperliquidError) as refused:
        fetch(src)
    assert refused.value.status == 422 and src.retries == 0 and log.count("fundingHistory") == 1


def test_a_venue_that_cannot_be_reached_fails_in_words_after_one_more_try():
    attempts = []

    def handle(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.host)
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution")

    with pytest.raises(
        frames.VenueUnreachable, match=r"cannot reach api\.hyperliquid\.xyz \(no network\?\)"
    ) as err:
        fetch(loader(httpx.MockTransport(handle)))
    assert attempts == ["api.hyperliquid.xyz"] * 2  # tried once more, not eight times with backoff
    assert isinstance(err.value.__cause__, httpx.ConnectError)
