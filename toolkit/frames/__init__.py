"""DataFrame views of funding, liquidations, fills and account figures, in pandas or polars.

``frames.Hyperliquid(sandbox).user_funding(address)`` is a typed DataFrame of every funding
payment; see the loaders (Hyperliquid, Aster, Lighter, PaperExchange), ``read_parquet`` and the
analytics.
"""

from __future__ import annotations

from toolkit.frames import analytics, plots, synthetic
from toolkit.frames.aster import Aster
from toolkit.frames.budget import WeightBudget
from toolkit.frames.cache import read_parquet
from toolkit.frames.hyperliquid import Hyperliquid
from toolkit.frames.lighter import Lighter
from toolkit.frames.paging import PagingError
from toolkit.frames.paperx import PaperExchange
from toolkit.frames.replay import MarketHistory, ReplayGap
from toolkit.frames.source import VenueUnreachable

__all__ = [
    "Aster",
    "Hyperliquid",
    "Lighter",
    "MarketHistory",
    "PagingError",
    "PaperExchange",
    "ReplayGap",
    "VenueUnreachable",
    "WeightBudget",
    "analytics",
    "plots",
    "read_parquet",
    "synthetic",
]
