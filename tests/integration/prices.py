"""Prices relative to the shared sandbox's market now: other tests move its clock, and the prices
with it, so a fixed price may rest in one order of the suite and fill in another."""

from __future__ import annotations

from typing import Any

import httpx


def resting_bid(sandbox: Any, coin: str = "ETH") -> str:
    """A whole-number price a quarter of ``coin``'s mark now: a buy there rests."""
    mids = httpx.post(f"{sandbox.url}/info", json={"type": "allMids"}, timeout=30).json()
    return str(max(1, round(float(mids[coin]) / 4)))
