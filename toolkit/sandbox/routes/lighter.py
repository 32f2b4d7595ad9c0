"""Lighter under /api/v1 at the root (the native signer replaces any base-URL path), in Lighter's
``{code, message}`` envelope. Posts are form-encoded, as the SDK sends them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool

from toolkit.sandbox.clearinghouse import Clearinghouse
from toolkit.sandbox.engine import marketdata
from toolkit.sandbox.engine.market import FundingRow
from toolkit.sandbox.render import lighter as render
from toolkit.sandbox.state import SandboxState, get_state
from toolkit.venues.lighter import markets, wire
from toolkit.venues.lighter.wire import LighterError

PREFIX = "/api/v1"
router = APIRouter(prefix=PREFIX, tags=["Lighter"])
State = Annotated[SandboxState, Depends(get_state)]
Auth = Annotated[str | None, Header(alias="authorization")]
AccountIndex = Annotated[int, Query(ge=0, le=wire.MAX_ACCOUNT_INDEX)]


def refusal(status: int, message: str) -> LighterError:
    """A refusal that did not come from Lighter's own rules (a malformed query, an unknown path)."""
    return LighterError(wire.INVALID_PARAM, message, status)


async def _run(fn: Callable[..., Any], *args: Any) -> Any:
    return await run_in_threadpool(fn, *args)


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def _field(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if value is None or value == "":
        raise LighterError(wire.INVALID_PARAM, f"{name} is required")
    return value


def _int_field(form: dict[str, str], name: str, low: int = 0, high: int = wire.MAX_ACCOUNT_INDEX) -> int:
    text = _field(form, name)
    if not (text.isascii() and text.lstrip("-").isdigit()):  # int() would also take "١٤", " 14" and "1_4"
        raise LighterError(wire.INVALID_PARAM, f"{name} must be an integer")
    value = int(text)
    if not low <= value <= high:
        raise LighterError(wire.INVALID_PARAM, f"{name} must be between {low} and {high}")
    return value


def _bool_field(form: dict[str, str], name: str) -> bool:
    text = form.get(name, "false").lower()
    if text not in ("true", "false", "1", "0"):
        raise LighterError(wire.INVALID_PARAM, f"{name} must be true or false")
    return text in ("true", "1")


# -- public ------------------------------------------------------------------------------------


@router.get("/accountsByL1Address", summary="Lighter: the accounts of an L1 address")
async def accounts_by_l1_address(
    state: State, l1_address: Annotated[str, Query(pattern=r"^0x[0-9a-fA-F]{40}$")]
) -> Any:
    return await _run(state.lighter.accounts_by_l1_address, l1_address)


@router.get("/nextNonce", summary="Lighter: the next nonce of an API key")
async def next_nonce(
    state: State, account_index: AccountIndex, api_key_index: Annotated[int, Query(ge=0, le=255)]
) -> Any:
    return await _run(state.lighter.next_nonce, account_index, api_key_index)


@router.get("/apikeys", summary="Lighter: the API keys of an account (255 or none: all)")
async def apikeys(
    state: State,
    account_index: AccountIndex,
    api_key_index: Annotated[int | None, Query(ge=0, le=255)] = None,
) -> Any:
    return await _run(state.lighter.api_keys, account_index, api_key_index)


@router.post("/sendTx", summary="Lighter: submit one signed transaction (form: tx_type, tx_info)")
async def send_tx(state: State, request: Request) -> Any:
    form = await _form(request)

    def run() -> Any:
        tx_type = _int_field(form, "tx_type", 0, 255)
        tx_info = _field(form, "tx_info")
        if not tx_info.lstrip().startswith("{"):
            raise LighterError(wire.INVALID_TX, "tx_info must be a JSON object")
        return state.lighter.send_tx(tx_type, tx_info)

    return await _run(run)


def _json_list(form: dict[str, str], name: str, kind: type) -> list[Any]:
    """A form field holding JSON text of a list of ``kind`` (the SDK's ``json.dumps`` of a list)."""
    text = _field(form, name)
    try:
        value = json.loads(text)
    except ValueError:
        raise LighterError(wire.INVALID_PARAM, f"{name} must be JSON text of a list") from None
    if not isinstance(value, list) or not all(type(v) is kind for v in value):
        raise LighterError(wire.INVALID_PARAM, f"{name} must be a JSON list of {kind.__name__}s")
    return value


@router.post("/sendTxBatch", summary="Lighter: submit up to 50 signed transactions of one API key, in order")
async def send_tx_batch(state: State, request: Request) -> Any:
    form = await _form(request)

    def run() -> Any:
        tx_types = _json_list(form, "tx_types", int)
        tx_infos = _json_list(form, "tx_infos", str)
        if not all(0 <= t <= 255 for t in tx_types):
            raise LighterError(wire.INVALID_PARAM, "tx_types must be between 0 and 255")
        if not all(info.lstrip().startswith("{") for info in tx_infos):
            raise LighterError(wire.INVALID_TX, "each of tx_infos must be a JSON object")
        return state.lighter.send_tx_batch(tx_types, tx_infos)

    return await _run(run)


# -- authenticated -------------------------------------------------------------------------------


async def _write(
    state: SandboxState,
    request: Request,
    authorization: str | None,
    act: Callable[[dict[str, str], int], Any],
) -> Any:
    """A form post that changes an account: only a signed auth token for that account may."""
    form = await _form(request)

    def run() -> Any:
        account = _int_field(form, "account_index")
        state.lighter.authenticate(authorization, account, write=True)
        return act(form, account)

    return await _run(run)


async def _read(
    state: SandboxState, account_index: int, authorization: str | None, act: Callable[[int], Any]
) -> Any:
    """A private read: a signed auth token or a read-only token for that account."""

    def run() -> Any:
        state.lighter.authenticate(authorization, account_index, write=False)
        return act(account_index)

    return await _run(run)


@router.post("/tokens/create", summary="Lighter: create a read-only API token")
async def tokens_create(state: State, request: Request, authorization: Auth = None) -> Any:
    def act(form: dict[str, str], account: int) -> Any:
        return state.lighter.create_token(
            account,
            form.get("name", ""),
            _int_field(form, "expiry", 0, 2**63 - 1),
            _bool_field(form, "sub_account_access"),
            form.get("scopes") or "read.*",
        )

    return await _write(state, request, authorization, act)


@router.get("/tokens", summary="Lighter: the read-only API tokens of an account")
async def tokens(state: State, account_index: AccountIndex, authorization: Auth = None) -> Any:
    return await _read(state, account_index, authorization, state.lighter.tokens)


@router.post("/tokens/revoke", summary="Lighter: revoke a read-only API token")
async def tokens_revoke(state: State, request: Request, authorization: Auth = None) -> Any:
    def act(form: dict[str, str], account: int) -> Any:
        return state.lighter.revoke_token(account, _int_field(form, "token_id", 0, 2**63 - 1))

    return await _write(state, request, authorization, act)


@router.post("/setMakerOnlyApiKeys", summary="Lighter: replace the account's maker-only keys")
async def set_maker_only(state: State, request: Request, authorization: Auth = None) -> Any:
    def act(form: dict[str, str], account: int) -> Any:
        return state.lighter.set_maker_only(account, _field(form, "api_key_indexes"))

    return await _write(state, request, authorization, act)


@router.get("/getMakerOnlyApiKeys", summary="Lighter: the account's maker-only keys")
async def get_maker_only(state: State, account_index: AccountIndex, authorization: Auth = None) -> Any:
    return await _read(state, account_index, authorization, state.lighter.get_maker_only)


@router.post("/changeAccountTier", summary="Lighter: switch between standard and premium")
async def change_account_tier(state: State, request: Request, authorization: Auth = None) -> Any:
    def act(form: dict[str, str], account: int) -> Any:
        return state.lighter.change_tier(account, _field(form, "new_tier"))

    return await _write(state, request, authorization, act)


@router.get("/accountLimits", summary="Lighter: the account's tier and fee ticks")
async def account_limits(state: State, account_index: AccountIndex, authorization: Auth = None) -> Any:
    return await _read(state, account_index, authorization, state.lighter.account_limits)


# -- markets: the clearinghouse's market, as Lighter numbers and prints it -------------------------

MarketFilter = Annotated[Literal["all", "spot", "perp"], Query()]
AnyMarket = Annotated[int, Query(ge=0, le=markets.MAX_MARKET_ID)]
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
MAX_CANDLES = 500  # per call, as the venue serves them
MAX_FUNDINGS = 750
FUNDING_RESOLUTIONS = {"1h": HOUR_MS, "1d": DAY_MS}


def _markets(market_id: int, kind: str = "all") -> list[markets.LighterMarket]:
    found = markets.selected(market_id)
    if market_id != markets.ALL_MARKETS and not found:
        raise LighterError(wire.INVALID_MARKET_INDEX, "invalid market index")
    return found if kind in ("all", "perp") else []


def _market(market_id: int) -> markets.LighterMarket:
    """The one market a read names: ``255`` (all markets) is not one."""
    if market_id == markets.ALL_MARKETS:
        raise LighterError(wire.INVALID_MARKET_INDEX, "invalid market index: this read takes one market")
    (market,) = _markets(market_id)
    return market


def _market_between(market_id: int, start: int, end: int) -> markets.LighterMarket:
    """The market of a time-ranged read, once its range is in order."""
    market = _market(market_id)
    if start > end:
        raise LighterError(wire.INVALID_PARAM, "start_timestamp must not be after end_timestamp")
    return market


async def _contexts(state: SandboxState) -> dict[str, Any]:
    return {c.coin: c for c in await state.clearinghouse.acall(Clearinghouse._asset_contexts)}


@router.get("/orderBooks", summary="Lighter: the markets and their specs (255: all)")
async def order_books(
    state: State, market_id: AnyMarket = markets.ALL_MARKETS, filter: MarketFilter = "all"
) -> Any:
    chosen = _markets(market_id, filter)
    contexts = await _contexts(state)
    rows = [render.order_book(m, contexts[m.symbol].open_interest) for m in chosen]
    return {"code": wire.OK, "order_books": rows}


@router.get(
    "/orderBookDetails", summary="Lighter: the markets with margin fractions, prices and the last day"
)
async def order_book_details(
    state: State, market_id: AnyMarket = markets.ALL_MARKETS, filter: MarketFilter = "all"
) -> Any:
    chosen = _markets(market_id, filter)
    contexts = await _contexts(state)
    ch = state.clearinghouse
    now = ch.now()

    def details() -> list[dict[str, Any]]:
        out = []
        for m in chosen:
            ctx = contexts[m.symbol]
            day = marketdata.candles(ch.market, m.symbol, "1h", now - DAY_MS, now, now)
            out.append(render.order_book_detail(m, ctx.mark_px, ctx.oracle_px, ctx.open_interest, day))
        return out

    rows = await run_in_threadpool(details)
    return {"code": wire.OK, "order_book_details": rows, "spot_order_book_details": []}


@router.get("/orderBookOrders", summary="Lighter: the resting orders of a market's book, best first")
async def order_book_orders(
    state: State, market_id: AnyMarket, limit: Annotated[int, Query(ge=1, le=250)]
) -> Any:
    m = _market(market_id)
    now, bids, asks = await state.clearinghouse.acall(Clearinghouse._book, m.symbol)
    asks_out = render.simple_orders(m, asks[:limit], True, now)
    bids_out = render.simple_orders(m, bids[:limit], False, now)
    return {
        "code": wire.OK,
        "total_asks": len(asks_out),
        "asks": asks_out,
        "total_bids": len(bids_out),
        "bids": bids_out,
    }


Timestamp = Annotated[int, Query(ge=0, le=5_000_000_000_000)]


@router.get("/candles", summary="Lighter: a market's candles (ms), at most 500, the latest count_back")
async def candles(
    state: State,
    market_id: AnyMarket,
    resolution: Annotated[Literal["1m", "5m", "15m", "30m", "1h", "4h", "12h", "1d", "1w"], Query()],
    start_timestamp: Timestamp,
    end_timestamp: Timestamp,
    count_back: Annotated[int, Query(ge=1, le=5000)],
    set_timestamp_to_end: bool = False,
    merge_mark_price: bool = False,  # accepted as the SDK sends it: the sandbox's trades are at the mark
) -> Any:
    m = _market_between(market_id, start_timestamp, end_timestamp)
    ch = state.clearinghouse
    now = ch.now()
    rows = await run_in_threadpool(
        marketdata.candles, ch.market, m.symbol, resolution, start_timestamp, end_timestamp, now
    )
    rows = rows[-min(count_back, MAX_CANDLES) :]
    out = [render.candle(m, c, (c.T + 1) // 1000) for c in rows]  # a stable, rising last-trade id
    if set_timestamp_to_end:
        for row, c in zip(out, rows, strict=True):
            row["t"] = c.T + 1
    return {"code": wire.OK, "r": resolution, "c": out}


@router.get("/fundings", summary="Lighter: a market's funding by hour or day (timestamps in seconds)")
async def fundings(
    state: State,
    market_id: AnyMarket,
    resolution: Annotated[Literal["1h", "1d"], Query()],
    start_timestamp: Timestamp,
    end_timestamp: Timestamp,
    count_back: Annotated[int, Query(ge=1, le=5000)],
) -> Any:
    m = _market_between(market_id, start_timestamp, end_timestamp)
    ch = state.clearinghouse
    now = ch.now()
    step = FUNDING_RESOLUTIONS[resolution]
    start_ms, end_ms = max(start_timestamp * 1000, ch.market.start_ms), min(end_timestamp * 1000, now)

    def rows() -> list[dict[str, Any]]:
        if end_ms < start_ms:
            return []
        # the newest count_back periods: fetch only those hours
        first = max(start_ms, end_ms - end_ms % step - (min(count_back, MAX_FUNDINGS) - 1) * step)
        hourly = ch.market.funding_history(m.symbol, first, end_ms)
        periods: dict[int, list[FundingRow]] = {}
        for row in hourly:  # a payment at boundary t pays the hour before it: t - 1 is in its day
            key = row.time if step == HOUR_MS else (row.time - 1) - (row.time - 1) % step
            periods.setdefault(key, []).append(row)
        out = []
        for t, group in sorted(periods.items()):
            rate = sum(r.rate for r in group)
            period = FundingRow(m.symbol, t, rate, group[-1].premium)
            out.append(render.funding(period, ch.market.oracle(m.symbol, group[-1].time)))
        return out[-min(count_back, MAX_FUNDINGS) :]

    return {"code": wire.OK, "resolution": resolution, "fundings": await run_in_threadpool(rows)}


@router.get("/funding-rates", summary="Lighter: each market's current funding rate, per 8 hours")
async def funding_rates(state: State) -> Any:
    contexts = await _contexts(state)
    rows = [
        {
            "market_id": m.market_id,
            "exchange": exchange,
            "symbol": m.symbol,
            "rate": contexts[m.symbol].funding * 8,
        }
        for m in markets.MARKETS
        for exchange in ("lighter", "hyperliquid")
    ]
    return {"code": wire.OK, "funding_rates": rows}


# -- accounts and their trading: the clearinghouse's accounts, as Lighter shows them ---------------


@router.get("/account", summary="Lighter: accounts with positions and money, by index or L1 address")
async def account(
    state: State,
    by: Annotated[Literal["index", "l1_address"], Query()],
    value: Annotated[str, Query(max_length=66)],
    active_only: bool = False,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    return await _run(state.lighter.account, by, value)


def _market_or_all(market_id: int) -> int:
    _markets(market_id)  # an unknown market is refused; 255 is every market
    return market_id


@router.get("/accountActiveOrders", summary="Lighter: the account's open orders (auth)")
async def account_active_orders(
    state: State,
    account_index: AccountIndex,
    market_id: AnyMarket = markets.ALL_MARKETS,
    market_type: MarketFilter = "all",
    authorization: Auth = None,
) -> Any:
    def act(account: int) -> Any:
        chosen = _market_or_all(market_id)
        orders = [] if market_type == "spot" else state.lighter.trading.active_orders(account, chosen)
        return {"code": wire.OK, "orders": orders}

    return await _read(state, account_index, authorization, act)


@router.get(
    "/accountInactiveOrders", summary="Lighter: the account's filled and canceled orders, newest first (auth)"
)
async def account_inactive_orders(
    state: State,
    account_index: AccountIndex,
    limit: Annotated[int, Query(ge=1, le=100)],
    market_id: AnyMarket = markets.ALL_MARKETS,
    ask_filter: Annotated[int, Query(ge=-1, le=1)] = -1,
    between_timestamps: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    market_type: MarketFilter = "all",
    authorization: Auth = None,
) -> Any:
    """``ask_filter`` 1 keeps asks, 0 bids, -1 both; ``next_cursor`` (while a page is full) asks for
    the next older page."""
    before = _trade_cursor(cursor)  # an order index, as a trade cursor is a trade id

    def act(account: int) -> Any:
        chosen = _market_or_all(market_id)
        if market_type == "spot":
            return {"code": wire.OK, "orders": []}
        side = None if ask_filter == -1 else bool(ask_filter)
        orders = state.lighter.trading.inactive_orders(account, chosen, limit, side, before)
        page: dict[str, Any] = {"code": wire.OK}
        if len(orders) == limit:
            page["next_cursor"] = str(orders[-1]["order_index"])
        return page | {"orders": orders}

    return await _read(state, account_index, authorization, act)


@router.get("/recentTrades", summary="Lighter: the latest trades of a market, newest first")
async def recent_trades(
    state: State, market_id: AnyMarket, limit: Annotated[int, Query(ge=1, le=100)]
) -> Any:
    m = _market(market_id)
    trades = await _run(state.lighter.trading.trades, m.market_id, None, limit)
    return {"code": wire.OK, "trades": trades}


Cursor = Annotated[str | None, Query(max_length=64)]


def _trade_cursor(cursor: str | None) -> int | None:
    """A ``next_cursor`` of ``trades``: the last trade id it sent."""
    if cursor is None or cursor == "":
        return None
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
        raise LighterError(wire.INVALID_PARAM, "cursor must be a next_cursor this API returned")
    return int(cursor)


def _funding_cursor(cursor: str | None) -> tuple[int, str] | None:
    """A ``next_cursor`` of ``positionFunding``: the time (ms) and symbol of the last row it sent."""
    if cursor is None or cursor == "":
        return None
    time, _, symbol = cursor.partition(":")
    if not (time.isascii() and time.isdigit() and len(time) <= 15 and symbol in markets.BY_SYMBOL):
        raise LighterError(wire.INVALID_PARAM, "cursor must be a next_cursor this API returned")
    return int(time), symbol


@router.get("/trades", summary="Lighter: trades, of one account with its auth token, newest first")
async def trades(
    state: State,
    sort_by: Annotated[Literal["block_height", "timestamp", "trade_id"], Query()],
    limit: Annotated[int, Query(ge=1, le=100)],
    market_id: AnyMarket = markets.ALL_MARKETS,
    account_index: Annotated[int, Query(ge=-1, le=wire.MAX_ACCOUNT_INDEX)] = -1,
    sort_dir: Annotated[Literal["asc", "desc"], Query()] = "desc",
    cursor: Cursor = None,
    type: Annotated[
        Literal["all", "trade", "liquidation", "deleverage", "market-settlement"], Query()
    ] = "all",
    role: Annotated[Literal["all", "maker", "taker"], Query()] = "all",
    authorization: Auth = None,
) -> Any:
    """Pages newest first: ``next_cursor`` (while a page is full) asks for the next older one. Every
    ``sort_by`` orders the same way here: trade ids rise with time."""
    before = _trade_cursor(cursor)

    def rows(account: int | None) -> Any:
        out = state.lighter.trading.trades(_market_or_all(market_id), account, limit, before)
        page: dict[str, Any] = {"code": wire.OK}
        if len(out) == limit:
            page["next_cursor"] = str(out[-1]["trade_id"])
        if type != "all":
            out = [t for t in out if t["type"] == type]
        if role != "all" and account is not None:
            out = [
                t for t in out if (t["is_maker_ask"] == (t["ask_account_id"] == account)) == (role == "maker")
            ]
        if sort_dir == "asc":
            out.reverse()
        return page | {"trades": out}

    if account_index == -1:
        return await _run(rows, None)
    return await _read(state, account_index, authorization, rows)


@router.get("/positionFunding", summary="Lighter: the account's funding payments, newest first (auth)")
async def position_funding(
    state: State,
    account_index: AccountIndex,
    limit: Annotated[int, Query(ge=1, le=100)],
    market_ids: Annotated[str | None, Query(max_length=200)] = None,
    side: Annotated[Literal["long", "short", "all"] | None, Query()] = None,
    cursor: Cursor = None,
    start_timestamp: Annotated[int | None, Query(ge=0, le=5_000_000_000)] = None,
    end_timestamp: Annotated[int | None, Query(ge=0, le=5_000_000_000)] = None,
    authorization: Auth = None,
) -> Any:
    """Times in seconds, as the rows carry them; ``next_cursor`` (while a page is full) asks for the
    next older page."""
    chosen: set[int] | None = None
    if market_ids:
        parts = market_ids.split(",")
        if not all(p.isascii() and p.isdigit() and len(p) <= 15 for p in parts):
            raise LighterError(wire.INVALID_PARAM, "market_ids must be comma-separated market indexes")
        chosen = {_market(int(p)).market_id for p in parts}
    before = _funding_cursor(cursor)
    start = None if start_timestamp is None else start_timestamp * 1000
    end = None if end_timestamp is None else end_timestamp * 1000 + 999

    def act(account: int) -> Any:
        rows = state.lighter.trading.position_funding(account, limit, chosen, start, end, before)
        page: dict[str, Any] = {"code": wire.OK}
        if len(rows) == limit:
            last = rows[-1]
            page["next_cursor"] = f"{last['timestamp'] * 1000}:{markets.BY_ID[last['market_id']].symbol}"
        if side in ("long", "short"):
            rows = [r for r in rows if r["position_side"] == side]
        return page | {"position_fundings": rows}

    return await _read(state, account_index, authorization, act)


@router.get("/liquidations", summary="Lighter: the account's liquidations, newest first (auth)")
async def liquidations(
    state: State,
    account_index: AccountIndex,
    limit: Annotated[int, Query(ge=1, le=100)],
    market_id: AnyMarket | None = None,
    cursor: Cursor = None,
    authorization: Auth = None,
) -> Any:
    before = _trade_cursor(cursor)

    def act(account: int) -> Any:
        chosen = markets.ALL_MARKETS if market_id is None else _market_or_all(market_id)
        rows = state.lighter.trading.liquidations(account, limit, chosen, before)
        page: dict[str, Any] = {"code": wire.OK}
        if len(rows) == limit:
            page["next_cursor"] = str(rows[-1]["id"])
        return page | {"liquidations": rows}

    return await _read(state, account_index, authorization, act)
