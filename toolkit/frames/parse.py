"""Venue JSON to typed frames: pure functions, no HTTP.

Funding rows come by the million, so their parsers read the raw bytes with Arrow's multithreaded
JSON reader, a few megabytes at a time (peak memory stays near the size of the result), instead
of building a Python dict per row. Any input the fast path cannot read exactly is parsed the
ordinary way, so the result never depends on which path ran.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.json as pajson

from toolkit.frames import schema

CHUNK = 2 << 20  # bytes of JSON per Arrow read: peak memory grows with it, speed hardly


def _spans(raw: bytes) -> Iterator[tuple[int, int]]:
    """A compact JSON array of objects cut into spans of about CHUNK bytes, each ending at a row.

    Rows are split at ``},{``. A split inside a string would leave an unterminated string on one
    line, which the reader refuses, and the caller falls back to the ordinary parser."""
    start, end = raw.index(b"[") + 1, raw.rindex(b"]")
    while start < end:
        cut = raw.find(b"},{", start + CHUNK, end) if start + CHUNK < end else -1
        stop = end if cut < 0 else cut + 1
        yield start, stop
        start = stop + 1


_POOL = ThreadPoolExecutor(2, thread_name_prefix="frames-parse")  # Arrow parses without the GIL
IN_FLIGHT = 3  # spans being parsed at once: bounds the memory the copies take


def _arrow_frames(raw: bytes, arrow_schema: pa.Schema, typed: Any) -> list[pl.DataFrame]:
    options = pajson.ParseOptions(explicit_schema=arrow_schema, unexpected_field_behavior="ignore")
    serial = pajson.ReadOptions(use_threads=False)

    def one(span: tuple[int, int]) -> pl.DataFrame:
        piece = raw[span[0] : span[1]].replace(b"},{", b"}\n{")
        return typed(
            pl.from_arrow(pajson.read_json(io.BytesIO(piece), parse_options=options, read_options=serial))
        )

    out: list[pl.DataFrame] = []
    pending: deque[Future[pl.DataFrame]] = deque()
    try:
        for span in _spans(raw):
            if len(pending) >= IN_FLIGHT:
                out.append(pending.popleft().result())
            pending.append(_POOL.submit(one, span))
        out.extend(f.result() for f in list(pending))
    finally:
        for f in pending:
            f.cancel()
    return out


def _fast_or_plain(raws: Iterable[bytes], arrow_schema: pa.Schema, typed: Any, plain: Any) -> pl.DataFrame:
    """Each raw page through Arrow and ``typed`` (a polars frame → typed frame), or, if Arrow
    cannot read it exactly, through orjson and ``plain`` (rows → typed frame)."""
    frames = []
    for raw in raws:
        stripped = raw.strip()
        if stripped in (b"", b"[]"):
            continue
        if len(stripped) < 64 << 10:  # one small page: the plain parser is quicker than a thread hop
            frames.append(plain(orjson.loads(stripped)))
            continue
        try:
            frames.extend(_arrow_frames(stripped, arrow_schema, typed))
        except (pa.ArrowInvalid, ValueError):
            frames.append(plain(orjson.loads(stripped)))
    return pl.concat(frames, how="vertical", rechunk=False) if frames else None  # type: ignore[return-value]


def _pages(raw: bytes | Iterable[bytes]) -> Iterable[bytes]:
    return [raw] if isinstance(raw, bytes | bytearray | memoryview) else raw


# -- Hyperliquid ---------------------------------------------------------------------------------------

_S = pa.string()
_USER_FUNDING = pa.schema(
    [
        (
            "delta",
            pa.struct(
                [("coin", _S), ("usdc", _S), ("szi", _S), ("fundingRate", _S), ("nSamples", pa.int64())]
            ),
        ),
        ("hash", _S),
        ("time", pa.int64()),
    ]
)


def _own(df: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Fresh buffers for the columns polars would otherwise share with the Arrow page: one shared
    column keeps the whole page (every string it held) alive."""
    return df.with_columns(
        (pl.lit(None, df.schema[c]) if df[c].null_count() == df.height else pl.col(c) + 0).alias(c)
        for c in columns
    )


def _typed_user_funding(df: pl.DataFrame) -> pl.DataFrame:
    df = _own(df.unnest("delta"), "time", "nSamples")
    return schema.conform(df.rename({"fundingRate": "funding_rate", "nSamples": "n_samples"}), "funding")


def user_funding(raw: bytes | Iterable[bytes]) -> pl.DataFrame:
    """Hyperliquid ``userFunding`` JSON (one response or many pages) as the FUNDING frame."""

    def plain(rows: list[dict[str, Any]]) -> pl.DataFrame:
        return schema.conform(
            pl.DataFrame(
                [
                    {"time": r["time"], "hash": r.get("hash"), "coin": d.get("coin"), "usdc": d.get("usdc"),
                     "szi": d.get("szi"), "funding_rate": d.get("fundingRate"),
                     "n_samples": d.get("nSamples")}
                    for r in rows
                    if (d := r.get("delta") or {}).get("type", "funding") == "funding"
                ],
                schema={"time": pl.Int64, "hash": pl.String, "coin": pl.String, "usdc": pl.String,
                        "szi": pl.String, "funding_rate": pl.String, "n_samples": pl.Int64},
            ),
            "funding",
        )  # fmt: skip

    out = _fast_or_plain(_pages(raw), _USER_FUNDING, _typed_user_funding, plain)
    return schema.empty("funding") if out is None else out


_FUNDING_HISTORY = pa.schema([("coin", _S), ("fundingRate", _S), ("premium", _S), ("time", pa.int64())])


def funding_history(raw: bytes | Iterable[bytes]) -> pl.DataFrame:
    """Hyperliquid ``fundingHistory`` JSON as the FUNDING_RATES frame."""

    def typed(df: pl.DataFrame) -> pl.DataFrame:
        return schema.conform(_own(df, "time").rename({"fundingRate": "funding_rate"}), "funding_rates")

    def plain(rows: list[dict[str, Any]]) -> pl.DataFrame:
        return typed(pl.DataFrame(rows, schema={"coin": pl.String, "fundingRate": pl.String,
                                                "premium": pl.String, "time": pl.Int64}))  # fmt: skip

    out = _fast_or_plain(_pages(raw), _FUNDING_HISTORY, typed, plain)
    return schema.empty("funding_rates") if out is None else out


def _liquidated(fill: dict[str, Any], user: str | None) -> bool:
    """Did this fill close ``user``'s own position in a liquidation (not a liquidator's fill)?"""
    liq = fill.get("liquidation")
    if not liq:
        return False
    victim = liq.get("liquidatedUser")
    return victim is None or user is None or victim.lower() == user.lower()


def fills(rows: list[dict[str, Any]], user: str | None = None) -> pl.DataFrame:
    """Hyperliquid fills (``userFills`` / ``userFillsByTime``) as the FILLS frame; ``liquidation``
    marks the fills that closed ``user``'s position in a liquidation (CCXT's fetchMyLiquidations)."""
    return schema.conform(
        pl.DataFrame(
            [
                {"time": r["time"], "coin": r["coin"], "side": "buy" if r.get("side") == "B" else "sell",
                 "px": r.get("px"), "sz": r.get("sz"), "dir": r.get("dir"), "closed_pnl": r.get("closedPnl"),
                 "fee": r.get("fee"), "start_position": r.get("startPosition"), "crossed": r.get("crossed"),
                 "liquidation": _liquidated(r, user), "oid": r.get("oid"), "tid": r.get("tid"),
                 "mark_px": (r.get("liquidation") or {}).get("markPx"),
                 "hash": r.get("hash")}
                for r in rows
            ],
            schema={"time": pl.Int64, "coin": pl.String, "side": pl.String, "px": pl.String, "sz": pl.String,
                    "dir": pl.String, "closed_pnl": pl.String, "fee": pl.String, "start_position": pl.String,
                    "crossed": pl.Boolean, "liquidation": pl.Boolean, "oid": pl.Int64, "tid": pl.Int64,
                    "mark_px": pl.String, "hash": pl.String},
        ),
        "fills",
    )  # fmt: skip


OUTGOING = frozenset({"withdraw", "vaultDeposit", "spotGenesis"})  # ledger types that take money out
TRANSFERS = frozenset(
    {"send", "internalTransfer", "subAccountTransfer", "accountClassTransfer", "spotTransfer"}
)


def _signed(delta: dict[str, Any], user: str | None) -> Any:
    """A ledger update's amount counted into the account: Hyperliquid writes every amount as
    positive, withdrawals and sends to others included."""
    amount = delta.get("usdc", delta.get("amount"))
    if amount is None:
        return None
    kind = delta.get("type")
    if kind in OUTGOING or (
        kind in TRANSFERS and user is not None and str(delta.get("user", "")).lower() == user
    ):
        return -abs(float(amount))
    return abs(float(amount))


def ledger(rows: list[dict[str, Any]], user: str | None = None) -> pl.DataFrame:
    """Hyperliquid ``userNonFundingLedgerUpdates`` as the LEDGER frame, ``usdc`` positive into
    ``user``'s account (a withdrawal, or a send to someone else, is negative)."""
    out = []
    for r in rows:
        d = r.get("delta") or {}
        liquidated = d.get("liquidatedPositions")
        out.append(
            {"time": r["time"], "type": d.get("type"), "usdc": _signed(d, user),
             "liquidated_ntl_pos": d.get("liquidatedNtlPos"), "account_value": d.get("accountValue"),
             "leverage_type": d.get("leverageType"),
             "liquidated_positions": len(liquidated) if liquidated is not None else None,
             "hash": r.get("hash")}
        )  # fmt: skip
    df = pl.DataFrame(
        out,
        schema={"time": pl.Int64, "type": pl.String, "usdc": pl.Float64, "liquidated_ntl_pos": pl.String,
                "account_value": pl.String, "leverage_type": pl.String, "liquidated_positions": pl.Int64,
                "hash": pl.String},
    )  # fmt: skip
    return schema.conform(df, "ledger")


def clearinghouse_positions(state: dict[str, Any]) -> pl.DataFrame:
    """``clearinghouseState``'s asset positions as the POSITIONS frame (one row per open position)."""
    out = []
    for item in state.get("assetPositions") or []:
        p = item.get("position") or item
        lev = p.get("leverage") or {}
        cum = p.get("cumFunding") or {}
        szi, value = float(p["szi"]), float(p.get("positionValue") or 0)
        # Hyperliquid counts funding paid as positive here; the frames count money into the account
        received = {k: -float(v) for k, v in cum.items() if v is not None}
        out.append(
            {"time": state.get("time"), "coin": p["coin"], "szi": szi, "entry_px": p.get("entryPx"),
             "mark_px": value / abs(szi) if szi else None, "position_value": value,
             "unrealized_pnl": p.get("unrealizedPnl"), "return_on_equity": p.get("returnOnEquity"),
             "liquidation_px": p.get("liquidationPx"), "margin_used": p.get("marginUsed"),
             "leverage": lev.get("value"), "leverage_type": lev.get("type"),
             "cum_funding_all_time": received.get("allTime"),
             "cum_funding_since_open": received.get("sinceOpen")}
        )  # fmt: skip
    if not out:
        return schema.empty("positions")
    return schema.conform(pl.DataFrame(out, infer_schema_length=None).cast(
        {c: pl.String for c in ("entry_px", "unrealized_pnl", "return_on_equity", "liquidation_px",
                                "margin_used")},
        strict=False,
    ), "positions")  # fmt: skip


def open_orders(orders: list[dict[str, Any]]) -> pl.DataFrame:
    """``openOrders`` as the OPEN_ORDERS frame, oldest first."""
    if not orders:
        return schema.empty("open_orders")
    df = pl.DataFrame(
        [
            {"time": o.get("timestamp"), "coin": o["coin"], "side": "buy" if o.get("side") == "B" else "sell",
             "price": o.get("limitPx"), "size": o.get("sz"), "orig_size": o.get("origSz", o.get("sz")),
             "oid": o.get("oid"), "cloid": o.get("cloid")}
            for o in orders
        ],
        schema={"time": pl.Int64, "coin": pl.String, "side": pl.String, "price": pl.String, "size": pl.String,
                "orig_size": pl.String, "oid": pl.Int64, "cloid": pl.String},
    )  # fmt: skip
    return schema.conform(df, "open_orders").sort("time")


def candles(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """``candleSnapshot`` as the CANDLES frame, oldest first."""
    if not rows:
        return schema.empty("candles")
    df = pl.DataFrame(
        [{"time": c["t"], "close_time": c["T"], "coin": c["s"], "interval": c["i"], "open": c["o"],
          "high": c["h"], "low": c["l"], "close": c["c"], "volume": c["v"], "trades": c.get("n")}
         for c in rows],
        schema={"time": pl.Int64, "close_time": pl.Int64, "coin": pl.String, "interval": pl.String,
                "open": pl.String, "high": pl.String, "low": pl.String, "close": pl.String,
                "volume": pl.String, "trades": pl.Int64},
    )  # fmt: skip
    return schema.conform(df, "candles").sort("time")


def order_book(book: dict[str, Any] | None) -> pl.DataFrame:
    """``l2Book`` as the ORDER_BOOK frame: bids then asks, each best first."""
    if not book:
        return schema.empty("order_book")
    rows = []
    for side, levels in zip(("bid", "ask"), book["levels"], strict=True):
        for i, lv in enumerate(levels):
            rows.append({"time": book["time"], "coin": book["coin"], "side": side, "level": i,
                         "price": float(lv["px"]), "size": float(lv["sz"]), "orders": lv["n"]})  # fmt: skip
    if not rows:
        return schema.empty("order_book")
    df = pl.DataFrame(rows).with_columns(
        pl.col("size").cum_sum().over("side").alias("cum_size"),
        (pl.col("size") * pl.col("price")).cum_sum().over("side").alias("cum_notional"),
    )
    return schema.conform(df, "order_book")


def clearinghouse_account(state: dict[str, Any]) -> pl.DataFrame:
    """``clearinghouseState``'s margin summary as a one-row ACCOUNT frame."""
    m = state.get("marginSummary") or {}
    row = {"time": state.get("time"), "account_value": m.get("accountValue"),
           "total_margin_used": m.get("totalMarginUsed"), "total_ntl_pos": m.get("totalNtlPos"),
           "total_raw_usd": m.get("totalRawUsd"), "withdrawable": state.get("withdrawable"),
           "cross_maintenance_margin_used": state.get("crossMaintenanceMarginUsed"),
           "positions": len(state.get("assetPositions") or [])}  # fmt: skip
    df = pl.DataFrame([row], schema={k: pl.String for k in row} | {"time": pl.Int64, "positions": pl.Int64})
    return schema.conform(df, "account")


# -- Aster ---------------------------------------------------------------------------------------------


def aster_coin(symbol: pl.Expr) -> pl.Expr:
    """``BTCUSDT`` → ``BTC``: Aster's USDT-margined symbols named by their base asset."""
    return symbol.str.replace(r"(USDT|USDC|USD)$", "")


def aster_funding_rates(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Aster ``fundingRate`` rows as the FUNDING_RATES frame (no premium)."""
    df = pl.DataFrame(rows, schema={"symbol": pl.String, "fundingRate": pl.String, "fundingTime": pl.Int64})
    return schema.conform(
        df.select(pl.col("fundingTime").alias("time"), aster_coin(pl.col("symbol")).alias("coin"),
                  pl.col("fundingRate").alias("funding_rate")),
        "funding_rates",
    )  # fmt: skip


def aster_funding_fees(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Aster ``income`` rows of type FUNDING_FEE as the FUNDING frame (``hash`` holds the tranId;
    Aster reports neither the position size nor the rate)."""
    df = pl.DataFrame(
        [r for r in rows if r.get("incomeType") == "FUNDING_FEE"],
        schema={"symbol": pl.String, "incomeType": pl.String, "income": pl.String, "time": pl.Int64,
                "tranId": pl.String},
    )  # fmt: skip
    return schema.conform(
        df.select(pl.col("time"), aster_coin(pl.col("symbol")).alias("coin"), pl.col("income").alias("usdc"),
                  pl.col("tranId").cast(pl.String).alias("hash")),
        "funding",
    )  # fmt: skip
