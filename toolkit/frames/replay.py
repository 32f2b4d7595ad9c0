"""A market history to replay: hourly funding (rate and premium) and hourly candles per coin.

What the replay sandbox (``toolkit.sandbox.start(market=...)``, ``toolkit sandbox --replay DIR``)
and ``toolkit.backtest`` run on. Built from what ``frames`` downloads (or from recorded venue
responses), checked hour by hour, and saved as a file set a class or a team can share.

Alignment, hour ``h`` of ``n`` (``start`` is hour 0's opening boundary):

* the funding row of hour ``h`` is the one the venue stamped at the boundary ``start + (h+1) h``
  (Hyperliquid stamps a few ms after the hour; the recorded time is kept);
* the candle of hour ``h`` opens at ``start + h``; its close is the oracle price the payment at the
  end of hour ``h`` is computed on.

A missing hour is an error that names the coin and the hours, unless ``carry_forward=True``: then
the last funding row (rate and premium) and the last close (a flat candle, no volume) stand in for
it, and ``carried`` lists every hour filled that way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from toolkit.frames import parse, schema

HOUR_MS = 3_600_000
FORMAT = 1  # the file set's layout version, in its manifest
MANIFEST = "replay.json"
FILES = ("funding.parquet", "candles.parquet", "carried.parquet")
SHOWN = 5  # missing hours named in a gap's message
CARRIED = {"coin": pl.String(), "time": schema.UTC_MS, "kind": pl.String()}


class ReplayGap(ValueError):
    """Hours missing from a history, by coin (``missing``: coin -> list of ms)."""

    def __init__(self, what: str, missing: dict[str, list[int]]) -> None:
        self.missing = missing
        parts = []
        for coin, hours in missing.items():
            shown = ", ".join(_when(t) for t in hours[:SHOWN]) + (" ..." if len(hours) > SHOWN else "")
            parts.append(f"{coin} misses {len(hours)} hour{'s' * (len(hours) != 1)} of {what} ({shown})")
        super().__init__(
            "; ".join(parts) + ". Pass carry_forward=True to carry the last value forward over them."
        )


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def _hour(col: str = "time") -> pl.Expr:
    ms = pl.col(col).cast(pl.Int64)
    return ms - ms % HOUR_MS


@dataclass(frozen=True)
class MarketHistory:
    """Checked, aligned history: ``funding`` (the funding_rates frame, one row per coin and hour),
    ``candles`` (the candles frame, 1h, one per coin and hour), where it came from (``origin``)
    and the hours carried forward (``carried``: coin, time, kind "funding" or "candle")."""

    funding: pl.DataFrame
    candles: pl.DataFrame
    origin: str
    carried: pl.DataFrame

    @property
    def coins(self) -> tuple[str, ...]:
        """The replayed coins, sorted."""
        return tuple(sorted(self.funding["coin"].cast(pl.String).unique().to_list()))

    @property
    def start_ms(self) -> int:
        """Hour 0's opening boundary: where a replay's clock starts."""
        return int(self.candles["time"].cast(pl.Int64).min())

    @property
    def end_ms(self) -> int:
        """The last funding boundary: where a replay ends."""
        return self.start_ms + self.hours * HOUR_MS

    @property
    def hours(self) -> int:
        """How many hours the history covers (each with one funding row and one candle per coin)."""
        return self.funding.height // len(self.coins)

    def __repr__(self) -> str:
        return (
            f"MarketHistory({', '.join(self.coins)}; {_when(self.start_ms)} to {_when(self.end_ms)} UTC, "
            f"{self.hours} hours; {self.carried.height} carried; origin: {self.origin})"
        )

    # -- building --------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        funding: pl.DataFrame,
        candles: pl.DataFrame,
        *,
        origin: str,
        carry_forward: bool = False,
        start: int | None = None,
        end: int | None = None,
    ) -> MarketHistory:
        """Check and align ``funding`` (funding_rates frame) and ``candles`` (1h candles frame).

        The hours run from ``start`` (ms, default: the first funding hour of any coin) to ``end``
        (the last boundary of any coin): every coin must cover all of them."""
        funding = schema.conform(funding, "funding_rates").with_columns(pl.col("coin").cast(pl.String))
        candles = schema.conform(candles, "candles").with_columns(pl.col("coin").cast(pl.String))
        if funding.is_empty():
            raise ValueError("no funding history to replay")
        f_coins = set(funding["coin"].unique().to_list())
        c_coins = set(candles["coin"].unique().to_list())
        if f_coins - c_coins:
            raise ValueError(f"no candles for {', '.join(sorted(f_coins - c_coins))}: a replay needs both")
        if c_coins - f_coins:
            raise ValueError(f"no funding history for {', '.join(sorted(c_coins - f_coins))}")
        intervals = set(candles["interval"].cast(pl.String).drop_nulls().unique().to_list()) - {"1h"}
        if intervals:
            raise ValueError(f"a replay needs 1h candles, not {', '.join(sorted(intervals))}")
        for name, frame, columns in (
            ("funding", funding, ("funding_rate", "premium")),
            ("candles", candles, ("open", "high", "low", "close")),
        ):
            broken = (pl.col(c).is_null() | ~pl.col(c).is_finite() for c in columns)
            bad = frame.filter(pl.any_horizontal(*broken))
            if bad.height:
                row = bad.row(0, named=True)
                raise ValueError(f"{name}: {row['coin']} at {_when(int(row['time'].timestamp() * 1000))} "
                                 "has a missing or non-finite value")  # fmt: skip

        funding = _one_per_hour(funding.with_columns(boundary=_hour()), "boundary", "funding rows")
        candles = _one_per_hour(candles.with_columns(boundary=_hour()), "boundary", "candles")
        lo = start - start % HOUR_MS if start is not None else int(funding["boundary"].min()) - HOUR_MS
        hi = end - end % HOUR_MS if end is not None else int(funding["boundary"].max())
        if hi <= lo:
            raise ValueError(f"no whole hour between {_when(lo)} and {_when(hi)}")
        funding = funding.filter(pl.col("boundary").is_between(lo + HOUR_MS, hi))
        candles = candles.filter(pl.col("boundary").is_between(lo, hi - HOUR_MS))
        coins = sorted(f_coins)
        funding, f_carried = _fill(funding, coins, lo + HOUR_MS, hi, "funding", carry_forward)
        candles, c_carried = _fill(candles, coins, lo, hi - HOUR_MS, "candle", carry_forward)
        carried = pl.concat([f_carried, c_carried]).sort("coin", "time")
        return cls(
            funding.sort("coin", "boundary").drop("boundary"),
            candles.sort("coin", "boundary").drop("boundary"),
            origin,
            carried,
        )

    @classmethod
    def from_responses(
        cls,
        funding: Iterable[Mapping[str, Any]],
        candles: Iterable[Mapping[str, Any]],
        *,
        origin: str,
        carry_forward: bool = False,
        start: int | None = None,
        end: int | None = None,
    ) -> MarketHistory:
        """From Hyperliquid's own answers: ``fundingHistory`` rows and ``candleSnapshot`` candles
        (any number of coins in each), as recorded."""
        return cls.build(
            parse.funding_history(orjson.dumps(list(funding))),
            parse.candles(list(candles)),
            origin=origin,
            carry_forward=carry_forward,
            start=start,
            end=end,
        )

    # -- files -----------------------------------------------------------------------------------

    def fingerprint(self) -> str:
        """A digest of the data (not of the files): two replays of the same rows agree."""
        return self._fingerprint

    @cached_property
    def _fingerprint(self) -> str:  # hashing a year of rows takes ~60 ms: once per history
        digest = hashlib.sha256()
        for frame in (self.funding, self.candles):
            digest.update(frame.with_columns(pl.col("time").cast(pl.Int64)).write_csv().encode())
        return digest.hexdigest()[:16]

    def save(self, path: str | Path) -> Path:
        """Write the file set to the folder ``path`` (created): three Parquet files and a manifest
        with the origin, coins, range and each file's SHA-256."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        hashes = {}
        for name, frame in zip(FILES, (self.funding, self.candles, self.carried), strict=True):
            frame.write_parquet(folder / name)
            hashes[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        manifest = {
            "format": FORMAT,
            "venue": "Hyperliquid",
            "origin": self.origin,
            "coins": list(self.coins),
            "start": _when(self.start_ms),
            "end": _when(self.end_ms),
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "hours": self.hours,
            "carried_hours": self.carried.height,
            "fingerprint": self.fingerprint(),
            "files": hashes,
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        return folder

    @classmethod
    def load(cls, path: str | Path) -> MarketHistory:
        """Read a file set written by ``save``; refuses one whose files were changed."""
        folder = Path(path)
        if not (folder / MANIFEST).is_file():
            raise FileNotFoundError(f"{folder} holds no replay (no {MANIFEST})")
        manifest = json.loads((folder / MANIFEST).read_text())
        if manifest.get("format") != FORMAT:
            raise ValueError(
                f"{folder}: replay format {manifest.get('format')!r}; this toolkit reads {FORMAT}"
            )
        for name in FILES:
            if hashlib.sha256((folder / name).read_bytes()).hexdigest() != manifest["files"][name]:
                raise ValueError(f"{folder / name} does not match its manifest: it was changed after saving")
        return cls(
            pl.read_parquet(folder / FILES[0]),
            pl.read_parquet(folder / FILES[1]),
            manifest["origin"],
            pl.read_parquet(folder / FILES[2]),
        )


def _one_per_hour(frame: pl.DataFrame, by: str, what: str) -> pl.DataFrame:
    """Drop exact repeats (pages overlap); two different rows for one coin and hour are an error."""
    frame = frame.unique(subset=[c for c in frame.columns if c != "time"] + [by], keep="first")
    twice = frame.filter(pl.len().over("coin", by) > 1)
    if twice.height:
        row = twice.row(0, named=True)
        raise ValueError(f"two different {what} for {row['coin']} at {_when(row[by])}")
    return frame


def _fill(
    frame: pl.DataFrame, coins: list[str], first: int, last: int, kind: str, carry_forward: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every coin at every hour boundary in [first, last]: the gaps raised, or carried forward."""
    grid = pl.DataFrame({"coin": coins}).join(
        pl.DataFrame({"boundary": pl.int_range(first, last + 1, HOUR_MS, eager=True, dtype=pl.Int64)}),
        how="cross",
    )
    full = grid.join(frame, on=["coin", "boundary"], how="left").sort("coin", "boundary")
    holes = full.filter(pl.col("time").is_null())
    what = "funding" if kind == "funding" else "candles"
    if holes.height and not carry_forward:
        missing = {c: holes.filter(pl.col("coin") == c)["boundary"].to_list() for c in coins}
        raise ReplayGap(what, {c: m for c, m in missing.items() if m})
    leading = full.group_by("coin").agg(pl.col("time").first().is_null().alias("lead")).filter("lead")
    if leading.height:
        coin = leading["coin"].sort()[0]
        first_row = frame.filter(pl.col("coin") == coin)["boundary"].min()
        raise ValueError(f"{coin}'s {what} begin at {_when(first_row)}, after the replay's start "
                         f"{_when(first)}: nothing to carry forward; start later")  # fmt: skip
    carried = holes.select(
        "coin", pl.col("boundary").cast(schema.UTC_MS).alias("time"), pl.lit(kind).alias("kind")
    )
    if not holes.height:
        return full, carried
    values = [c for c in frame.columns if c not in ("coin", "boundary", "time")]
    if kind == "funding":
        filled = full.with_columns(pl.col(values).forward_fill().over("coin"))
    else:  # a flat candle at the last close, no volume
        close = pl.col("close").forward_fill().over("coin")
        filled = full.with_columns(
            *(pl.when(pl.col("time").is_null()).then(close).otherwise(pl.col(c)).alias(c)
              for c in ("open", "high", "low", "close")),
            pl.col("volume").fill_null(0.0), pl.col("trades").fill_null(0),
            pl.col("interval").fill_null("1h"),
            pl.col("close_time").fill_null((pl.col("boundary") + HOUR_MS - 1).cast(schema.UTC_MS)),
        )  # fmt: skip
    filled = filled.with_columns(pl.col("time").fill_null(pl.col("boundary").cast(schema.UTC_MS)))
    return filled, carried
