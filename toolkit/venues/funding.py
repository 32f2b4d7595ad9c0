"""Hyperliquid's funding formula (reference/hyperliquid.md §4): what the paper engine pays and what the
analytics predict from a premium.

The 8-hour rate is ``F = P + clamp(I − P, −0.0005, +0.0005)`` with ``I = 0.0001``; each hour F/8 is
paid, capped at 4% an hour. A position pays ``size × oracle × rate`` (positive: longs pay shorts).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

INTEREST_8H = 0.0001
CLAMP = 0.0005
HOURLY_CAP = 0.04


def hourly_rate(premium: ArrayLike) -> NDArray[np.float64] | float:
    """The hourly funding rate from the hour's average premium index (8-hour scale)."""
    p = np.asarray(premium, dtype=np.float64)
    rate = np.clip((p + np.clip(INTEREST_8H - p, -CLAMP, CLAMP)) / 8, -HOURLY_CAP, HOURLY_CAP)
    return float(rate) if rate.ndim == 0 else rate


def payments(szi: ArrayLike, oracle_px: ArrayLike, rate: ArrayLike) -> NDArray[np.float64]:
    """Cash to each position's owner: ``−szi × oracle × rate`` (a long pays a positive rate)."""
    return -np.asarray(szi, dtype=np.float64) * np.asarray(oracle_px, dtype=np.float64) * np.asarray(rate)
