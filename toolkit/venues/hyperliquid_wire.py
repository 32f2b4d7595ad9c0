"""Hyperliquid's wire messages as typed models: every ``/exchange`` body and ``/info`` request.

One contract for both ends: the client checks what it is about to sign against these models, and
the sandbox parses every request with them before it reads any state. Fields carry the venue's
real bounds (u64 nonces and ids, millisecond times in a sane range, decimal strings without
exponents, ``0x`` + 32 hex cloids, ``0x`` + 40 hex addresses), so a request that gets past them
cannot surprise the code behind. A signature covers the action exactly as sent, so the sandbox
keeps the raw action for hashing and uses the model for meaning.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

U32 = Annotated[StrictInt, Field(ge=0, le=2**32 - 1)]
U64 = Annotated[StrictInt, Field(ge=0, le=2**64 - 1)]
MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: any later "time" is a mistake
TimeMs = Annotated[StrictInt, Field(ge=0, le=MAX_TIME_MS)]
Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]
Cloid = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{32}$")]
Hex256 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{1,64}$")]
# a price or size as the SDKs write it: plain decimal digits, no sign, no exponent
DecimalText = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}(\.[0-9]{1,20})?$")]
Coin = Annotated[str, StringConstraints(min_length=1, max_length=32)]

MAX_ORDERS_PER_REQUEST = 1000  # orders, cancels or modifies in one /exchange request
MAX_AGENT_NAME = 64  # the name field, with its " valid_until <ms>" suffix


class _Strict(BaseModel):
    """Unknown fields are refused: they would be signed, yet mean nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Lenient(BaseModel):
    """Unknown fields are ignored, as the venue does for reads (newer SDKs add ``dex``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# -- /exchange -------------------------------------------------------------------------------------


class SignatureWire(_Strict):
    r: Hex256
    s: Hex256
    v: Annotated[StrictInt, Field(ge=0, le=255)]


class LimitSpec(_Strict):
    tif: Literal["Gtc", "Ioc", "Alo"]


class TriggerSpec(_Strict):
    isMarket: StrictBool
    triggerPx: DecimalText
    tpsl: Literal["tp", "sl"]


class OrderType(_Strict):
    limit: LimitSpec | None = None
    trigger: TriggerSpec | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> OrderType:
        if (self.limit is None) == (self.trigger is None):
            raise ValueError("an order type is either limit or trigger")
        return self


class OrderWire(_Strict):
    a: U32
    b: StrictBool
    p: DecimalText
    s: DecimalText
    r: StrictBool
    t: OrderType
    c: Cloid | None = None


class BuilderInfo(_Strict):
    b: Address
    f: Annotated[StrictInt, Field(ge=0, le=1000)]  # tenths of a basis point


class OrderAction(_Strict):
    type: Literal["order"]
    orders: Annotated[list[OrderWire], Field(max_length=MAX_ORDERS_PER_REQUEST)]
    grouping: Literal["na", "normalTpsl", "positionTpsl"] = "na"
    builder: BuilderInfo | None = None


class CancelWire(_Strict):
    a: U32
    o: U64


class CancelAction(_Strict):
    type: Literal["cancel"]
    cancels: Annotated[list[CancelWire], Field(max_length=MAX_ORDERS_PER_REQUEST)]


class CancelByCloidWire(_Strict):
    asset: U32
    cloid: Cloid


class CancelByCloidAction(_Strict):
    type: Literal["cancelByCloid"]
    cancels: Annotated[list[CancelByCloidWire], Field(max_length=MAX_ORDERS_PER_REQUEST)]


class UpdateLeverageAction(_Strict):
    type: Literal["updateLeverage"]
    asset: U32
    isCross: StrictBool
    leverage: Annotated[StrictInt, Field(ge=1, le=1000)]


class ApproveAgentAction(_Strict):
    type: Literal["approveAgent"]
    signatureChainId: Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{1,16}$")]
    hyperliquidChain: Literal["Mainnet", "Testnet"]
    agentAddress: Address
    agentName: Annotated[str, StringConstraints(max_length=MAX_AGENT_NAME)] | None = None
    nonce: U64


class NoopAction(_Strict):
    type: Literal["noop"]


class ModifyWire(_Strict):
    oid: U64 | Cloid
    order: OrderWire


class ModifyAction(_Strict):
    type: Literal["modify"]
    oid: U64 | Cloid
    order: OrderWire


class BatchModifyAction(_Strict):
    type: Literal["batchModify"]
    modifies: Annotated[list[ModifyWire], Field(max_length=MAX_ORDERS_PER_REQUEST)]


class ScheduleCancelAction(_Strict):
    type: Literal["scheduleCancel"]
    time: TimeMs | None = None  # absent: clear the scheduled cancel


class UpdateIsolatedMarginAction(_Strict):
    type: Literal["updateIsolatedMargin"]
    asset: U32
    isBuy: StrictBool
    ntli: Annotated[StrictInt, Field(ge=-(10**18), le=10**18)]  # USDC x 1e6, negative removes


class ApproveBuilderFeeAction(_Strict):
    type: Literal["approveBuilderFee"]
    signatureChainId: Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{1,16}$")]
    hyperliquidChain: Literal["Mainnet", "Testnet"]
    maxFeeRate: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,3}(\.[0-9]{1,4})?%$")]
    builder: Address
    nonce: U64


class _Transfer(_Strict):
    signatureChainId: Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{1,16}$")]
    hyperliquidChain: Literal["Mainnet", "Testnet"]
    destination: Address
    amount: DecimalText
    time: U64


class Withdraw3Action(_Transfer):
    type: Literal["withdraw3"]


class UsdSendAction(_Transfer):
    type: Literal["usdSend"]


Action = Annotated[
    OrderAction
    | CancelAction
    | CancelByCloidAction
    | UpdateLeverageAction
    | ApproveAgentAction
    | NoopAction
    | ModifyAction
    | BatchModifyAction
    | ScheduleCancelAction
    | UpdateIsolatedMarginAction
    | ApproveBuilderFeeAction
    | Withdraw3Action
    | UsdSendAction,
    Field(discriminator="type"),
]
ACTION_TYPES = (
    "order", "cancel", "cancelByCloid", "updateLeverage", "approveAgent", "noop", "modify", "batchModify",
    "scheduleCancel", "updateIsolatedMargin", "approveBuilderFee", "withdraw3", "usdSend",
)  # fmt: skip
USER_SIGNED_TYPES = (
    "approveAgent",
    "approveBuilderFee",
    "withdraw3",
    "usdSend",
)  # signed by the account's own key (EIP-712)


class ExchangeRequest(_Lenient):
    """The ``/exchange`` body: an action, its nonce and signature, and the optional vault and expiry."""

    action: Action
    nonce: U64
    signature: SignatureWire
    vaultAddress: Address | None = None
    expiresAfter: U64 | None = None


TradingAction = Annotated[
    OrderAction
    | CancelAction
    | CancelByCloidAction
    | UpdateLeverageAction
    | ModifyAction
    | BatchModifyAction
    | ScheduleCancelAction
    | UpdateIsolatedMarginAction,
    Field(discriminator="type"),
]
TRADING_TYPES = (
    "order", "cancel", "cancelByCloid", "updateLeverage", "modify", "batchModify", "scheduleCancel",
    "updateIsolatedMargin",
)  # fmt: skip


class PaperExchangeRequest(_Lenient):
    """PaperExchange's Hyperliquid face: the same trading actions, unsigned (the API key says who)."""

    action: TradingAction


# -- /info -----------------------------------------------------------------------------------------


class _User(_Lenient):
    user: Address


class _Times(_Lenient):
    startTime: TimeMs = 0
    endTime: TimeMs | None = None


class _Range(_User, _Times):
    pass


class MetaRequest(_Lenient):
    type: Literal["meta"]


class SpotMetaRequest(_Lenient):
    type: Literal["spotMeta"]


class AllMidsRequest(_Lenient):
    type: Literal["allMids"]


class MetaAndAssetCtxsRequest(_Lenient):
    type: Literal["metaAndAssetCtxs"]


class ClearinghouseStateRequest(_User):
    type: Literal["clearinghouseState"]


class OpenOrdersRequest(_User):
    type: Literal["openOrders"]


class FrontendOpenOrdersRequest(_User):
    type: Literal["frontendOpenOrders"]


class UserFillsRequest(_User):
    type: Literal["userFills"]
    aggregateByTime: StrictBool = False


class UserFillsByTimeRequest(_Range):
    type: Literal["userFillsByTime"]
    aggregateByTime: StrictBool = False


class FundingHistoryRequest(_Times):
    type: Literal["fundingHistory"]
    coin: Coin


class UserFundingRequest(_Range):
    type: Literal["userFunding"]


class UserNonFundingLedgerUpdatesRequest(_Range):
    type: Literal["userNonFundingLedgerUpdates"]


class ExtraAgentsRequest(_User):
    type: Literal["extraAgents"]


class UserRoleRequest(_User):
    type: Literal["userRole"]


class L2BookRequest(_Lenient):
    type: Literal["l2Book"]
    coin: Coin
    nSigFigs: Literal[2, 3, 4, 5] | None = None
    mantissa: Literal[1, 2, 5] | None = None


CandleInterval = Literal[
    "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "3d", "1w", "1M"
]  # fmt: skip


class CandleRange(_Lenient):
    coin: Coin
    interval: CandleInterval
    startTime: TimeMs
    endTime: TimeMs | None = None


class CandleSnapshotRequest(_Lenient):
    type: Literal["candleSnapshot"]
    req: CandleRange


class RecentTradesRequest(_Lenient):
    type: Literal["recentTrades"]
    coin: Coin


class OrderStatusRequest(_User):
    type: Literal["orderStatus"]
    oid: U64 | Cloid


class HistoricalOrdersRequest(_User):
    type: Literal["historicalOrders"]


class UserFeesRequest(_User):
    type: Literal["userFees"]


class PortfolioRequest(_User):
    type: Literal["portfolio"]


class UserRateLimitRequest(_User):
    type: Literal["userRateLimit"]


class SpotClearinghouseStateRequest(_User):
    type: Literal["spotClearinghouseState"]


class SubAccountsRequest(_User):
    type: Literal["subAccounts"]


class UserTwapSliceFillsRequest(_User):
    type: Literal["userTwapSliceFills"]


class MaxBuilderFeeRequest(_User):
    type: Literal["maxBuilderFee"]
    builder: Address


class ActiveAssetDataRequest(_User):
    type: Literal["activeAssetData"]
    coin: Coin


class SpotMetaAndAssetCtxsRequest(_Lenient):
    type: Literal["spotMetaAndAssetCtxs"]


class PerpDexsRequest(_Lenient):
    type: Literal["perpDexs"]


class ExchangeStatusRequest(_Lenient):
    type: Literal["exchangeStatus"]


class PredictedFundingsRequest(_Lenient):
    type: Literal["predictedFundings"]


class ReferralRequest(_User):
    type: Literal["referral"]


class UserVaultEquitiesRequest(_User):
    type: Literal["userVaultEquities"]


InfoRequest = Annotated[
    MetaRequest
    | SpotMetaRequest
    | AllMidsRequest
    | MetaAndAssetCtxsRequest
    | ClearinghouseStateRequest
    | OpenOrdersRequest
    | FrontendOpenOrdersRequest
    | UserFillsRequest
    | UserFillsByTimeRequest
    | FundingHistoryRequest
    | UserFundingRequest
    | UserNonFundingLedgerUpdatesRequest
    | ExtraAgentsRequest
    | UserRoleRequest
    | L2BookRequest
    | CandleSnapshotRequest
    | RecentTradesRequest
    | OrderStatusRequest
    | HistoricalOrdersRequest
    | UserFeesRequest
    | PortfolioRequest
    | UserRateLimitRequest
    | SpotClearinghouseStateRequest
    | SubAccountsRequest
    | UserTwapSliceFillsRequest
    | MaxBuilderFeeRequest
    | ActiveAssetDataRequest
    | SpotMetaAndAssetCtxsRequest
    | PerpDexsRequest
    | ExchangeStatusRequest
    | PredictedFundingsRequest
    | ReferralRequest
    | UserVaultEquitiesRequest,
    Field(discriminator="type"),
]

TAGS = frozenset(ACTION_TYPES) | {
    m.model_fields["type"].annotation.__args__[0]
    for m in InfoRequest.__origin__.__args__  # type: ignore[attr-defined]
}
EXCHANGE = TypeAdapter(ExchangeRequest)
PAPER_EXCHANGE = TypeAdapter(PaperExchangeRequest)
INFO = TypeAdapter(InfoRequest)
ACTION = TypeAdapter(Action)


class WireError(ValueError):
    """A body that does not parse into the venue's types; the message names the field, never the value."""


FORMATS = {
    r"^0x[0-9a-fA-F]{40}$": "must be a 0x address of 40 hex digits",
    r"^0x[0-9a-fA-F]{32}$": "must be a cloid: 0x and 32 hex digits",
    r"^0x[0-9a-fA-F]{1,64}$": "must be 0x and at most 64 hex digits",
    r"^0x[0-9a-fA-F]{1,16}$": "must be a chain id: 0x and at most 16 hex digits",
    r"^[0-9]{1,20}(\.[0-9]{1,20})?$": 'must be a decimal number as text, such as "0.01"',
    r"^[0-9]{1,3}(\.[0-9]{1,4})?%$": 'must be a percentage as text, such as "0.001%"',
}


def _location(loc: tuple[Any, ...]) -> str:
    """``action.orders[0].c``: the union's tag left out, list indexes in brackets."""
    text = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        elif str(part).startswith(("function-", "constrained-")) or (
            part in TAGS and (i == 0 or loc[i - 1] == "action")
        ):
            continue
        else:
            text += f".{part}" if text else str(part)
    return text


def describe(exc: ValidationError) -> str:
    """The first few problems as ``field: what is wrong``, with no submitted value in them."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:3]:
        loc = _location(err["loc"])
        kind, ctx = err["type"], err.get("ctx", {})
        if kind == "union_tag_invalid":
            message = f"unknown type {str(ctx.get('tag', ''))[:40]!r}"
        elif kind == "union_tag_not_found":
            message = "a 'type' field is required"
        elif kind == "string_pattern_mismatch":
            message = FORMATS.get(str(ctx.get("pattern")), "has the wrong format")
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {message}" if loc else message)
    return "; ".join(parts)


def parse(adapter: TypeAdapter[Any], raw: Any) -> Any:
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        raise WireError(describe(exc)) from None


def _action_type(raw: Any) -> str | None:
    """The ``action.type`` of a body, if it has a text one: looked at before the union is tried."""
    action = raw.get("action") if isinstance(raw, dict) else None
    kind = action.get("type") if isinstance(action, dict) else None
    return kind if isinstance(kind, str) else None


def parse_exchange(raw: Any) -> ExchangeRequest:
    """An ``/exchange`` body, or WireError."""
    kind = _action_type(raw)
    if kind is not None and kind not in ACTION_TYPES:
        raise UnsupportedAction(kind)
    return parse(EXCHANGE, raw)


def parse_paper_exchange(raw: Any) -> PaperExchangeRequest:
    """A PaperExchange ``/exchange`` body (trading actions only), or WireError."""
    kind = _action_type(raw)
    if kind is not None and kind not in TRADING_TYPES:
        raise WireError(f"action.type must be one of {', '.join(TRADING_TYPES)}")
    return parse(PAPER_EXCHANGE, raw)


def parse_info(raw: Any) -> Any:
    """An ``/info`` request, or WireError."""
    return parse(INFO, raw)


def check_action(action: dict[str, Any]) -> None:
    """Refuse, before signing, an action the venue could not read."""
    parse(ACTION, action)


class UnsupportedAction(WireError):
    """A well-formed body whose action type this venue does not serve."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"Unsupported action type {kind[:40]!r}")
        self.kind = kind


# -- WebSocket ----------------------------------------------------------------------------------------


class AllMidsSubscription(_Lenient):
    type: Literal["allMids"]
    dex: Annotated[str, StringConstraints(max_length=32)] | None = None


class L2BookSubscription(_Lenient):
    type: Literal["l2Book"]
    coin: Coin
    nSigFigs: Literal[2, 3, 4, 5] | None = None
    mantissa: Literal[1, 2, 5] | None = None
    fast: StrictBool = False


class _CoinSubscription(_Lenient):
    coin: Coin


class TradesSubscription(_CoinSubscription):
    type: Literal["trades"]


class BboSubscription(_CoinSubscription):
    type: Literal["bbo"]


class ActiveAssetCtxSubscription(_CoinSubscription):
    type: Literal["activeAssetCtx"]


class CandleSubscription(_CoinSubscription):
    type: Literal["candle"]
    interval: CandleInterval


class OrderUpdatesSubscription(_User):
    type: Literal["orderUpdates"]


class UserEventsSubscription(_User):
    type: Literal["userEvents"]


class UserFillsSubscription(_User):
    type: Literal["userFills"]
    aggregateByTime: StrictBool = False


class UserFundingsSubscription(_User):
    type: Literal["userFundings"]


class UserNonFundingLedgerUpdatesSubscription(_User):
    type: Literal["userNonFundingLedgerUpdates"]


class NotificationSubscription(_User):
    type: Literal["notification"]


class ActiveAssetDataSubscription(_User):
    type: Literal["activeAssetData"]
    coin: Coin


class WebData2Subscription(_User):
    type: Literal["webData2"]


Subscription = Annotated[
    AllMidsSubscription
    | L2BookSubscription
    | TradesSubscription
    | BboSubscription
    | ActiveAssetCtxSubscription
    | CandleSubscription
    | OrderUpdatesSubscription
    | UserEventsSubscription
    | UserFillsSubscription
    | UserFundingsSubscription
    | UserNonFundingLedgerUpdatesSubscription
    | NotificationSubscription
    | ActiveAssetDataSubscription
    | WebData2Subscription,
    Field(discriminator="type"),
]
SUBSCRIPTION = TypeAdapter(Subscription)


class PostRequest(_Strict):
    type: Literal["info", "action"]
    payload: dict[str, Any]


class WsSubscribe(_Lenient):
    method: Literal["subscribe", "unsubscribe"]
    subscription: dict[str, Any]


class WsPost(_Lenient):
    method: Literal["post"]
    id: U64
    request: PostRequest


class WsPing(_Lenient):
    method: Literal["ping"]


WS_MESSAGE = TypeAdapter(Annotated[WsSubscribe | WsPost | WsPing, Field(discriminator="method")])


def parse_subscription(raw: Any) -> Any:
    """A subscription, or WireError."""
    return parse(SUBSCRIPTION, raw)


def subscription_key(sub: Any) -> str:
    """One subscription's identity: the same stream asked twice is the same key."""
    data = sub.model_dump(exclude_defaults=True) | {"type": sub.type}
    if "user" in data:
        data["user"] = data["user"].lower()
    return ",".join(f"{k}={data[k]}" for k in sorted(data))
