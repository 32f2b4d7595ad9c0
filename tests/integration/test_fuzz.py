"""Hostile requests against every route family: not one may answer 5xx, and the venue keeps working.

The cases come from ``fuzzing``: each valid template below, with its fields (JSON, form, query,
headers) replaced by wrong types, out-of-range or non-finite numbers, deep nesting, lone
surrogates, non-ASCII digits and odd Unicode. Signed families are signed after the change, so the
hostile value reaches the code behind authentication. ``FUZZ_CASES`` sets the count (``make fuzz``
runs more). After the run, Hyperliquid's ``allMids`` and a PaperExchange overview still answer 200.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import httpx
import pytest

import toolkit.sandbox
from tests.integration import fuzzing
from tests.integration.fuzzing import ADDRESS, CLOID, SIG, Template
from tests.postgres import BACKENDS
from toolkit.secrets import generate_password
from toolkit.venues import aster as av
from toolkit.venues import hyperliquid as hl
from toolkit.venues import kalshi as ks
from toolkit.venues.eip712 import Wallet
from toolkit.venues.paperx import PaperClient

pytestmark = pytest.mark.heavy

CASES = int(os.environ.get("FUZZ_CASES", "20000"))


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_sandbox(request, tmp_path_factory):
    """The sandbox under attack, on each backend: PostgreSQL refuses values SQLite keeps (a NUL in a
    text, text past its column), so what passes on one may fail on the other."""
    database = None if request.param == "sqlite" else request.getfixturevalue("postgres").create_database()
    home = tmp_path_factory.mktemp("fuzz-hostile")
    with toolkit.sandbox.start(home=home, database_url=database, log_level="warning") as sb:
        sb.backend = request.param
        yield sb


def _templates(sb) -> list[Template]:
    trader = Wallet.generate()
    sb.deposit("hyperliquid", trader.address, 100_000)

    def hl_sign(body, query):
        nonce = now_ms()
        signature = hl.sign_l1_action(trader.private_key, body["action"], None, nonce, None, False)
        return body | {"nonce": nonce, "signature": signature.to_wire()}, query

    paper = PaperClient(sb)
    paper.register(f"fuzz-{Wallet.generate().address[2:10]}@example.com", generate_password(), plan="pro")
    api_key = paper.create_api_key("fuzz").api_key.reveal()
    bearer = paper.access_token.reveal()
    member = sb.kalshi_member(usage_level="prestige")
    aster_wallet = Wallet.generate()
    sb.deposit("aster", aster_wallet.address, 10_000)
    aster_key = av.AsterClient(sb).create_api_key(aster_wallet, "fuzz")

    def aster_sign(body, query):
        items = {k: v for k, v in query.items() if k not in ("timestamp", "recvWindow", "signature")}
        signed = av.signed_v1_query(items, aster_key.api_secret)
        return body, dict(part.split("=", 1) for part in signed.split("&"))

    aster_headers = {"X-MBX-APIKEY": aster_key.api_key.reveal()}
    hyperdex_key = sb.hyperdex_api_key("fuzz").reveal()
    paperx = {"X-API-Key": api_key}
    order = {
        "a": 1,
        "b": True,
        "p": "2000",
        "s": "0.01",
        "r": False,
        "t": {"limit": {"tif": "Gtc"}},
        "c": CLOID,
    }
    trigger = {"a": 1, "b": False, "p": "1900", "s": "0.01", "r": True,
               "t": {"trigger": {"isMarket": True, "triggerPx": "1900", "tpsl": "sl"}}}  # fmt: skip
    exchange = {"nonce": now_ms(), "signature": SIG, "vaultAddress": None}
    user = trader.address.lower()
    return [
        # Hyperliquid /exchange, every action, signed after the change
        Template("POST", "/exchange", exchange | {"action": {"type": "order", "orders": [order], "grouping": "na"}}, finish=hl_sign),
        Template("POST", "/exchange", exchange | {"action": {"type": "cancel", "cancels": [{"a": 1, "o": 12}]}}, finish=hl_sign),
        Template("POST", "/exchange", exchange | {"action": {"type": "cancelByCloid", "cancels": [{"asset": 1, "cloid": CLOID}]}}, finish=hl_sign),
        Template("POST", "/exchange", exchange | {"action": {"type": "updateLeverage", "asset": 1, "isCross": True, "leverage": 5}}, finish=hl_sign),
        Template("POST", "/exchange", exchange | {"action": {"type": "noop"}, "expiresAfter": now_ms() + 60_000}, finish=hl_sign),
        Template("POST", "/exchange", exchange | {"action": {"type": "order", "orders": [order, trigger], "grouping": "normalTpsl", "builder": {"b": ADDRESS, "f": 10}}}, finish=hl_sign),
        Template("POST", "/exchange", exchange | {"action": {"type": "order", "orders": [trigger], "grouping": "positionTpsl"}}, finish=hl_sign),
        Template("POST", "/exchange", exchange | {"action": {"type": "batchModify", "modifies": [{"oid": 1, "order": order}]}}, finish=hl_sign),
        Template("POST", "/exchange", exchange | {"action": {"type": "modify", "oid": CLOID, "order": order}}, finish=hl_sign),
        Template("POST", "/exchange", exchange | {"action": {"type": "scheduleCancel", "time": now_ms() + 60_000}}, finish=hl_sign),
        Template("POST", "/exchange", exchange | {"action": {"type": "updateIsolatedMargin", "asset": 1, "isBuy": True, "ntli": 1_000_000}}, finish=hl_sign),
        Template("POST", "/exchange", {"action": {"type": "approveBuilderFee", "signatureChainId": "0x66eee", "hyperliquidChain": "Testnet", "maxFeeRate": "0.001%", "builder": ADDRESS, "nonce": now_ms()}, "nonce": now_ms(), "signature": SIG}),
        Template("POST", "/exchange", {"action": {"type": "approveAgent", "signatureChainId": "0x66eee", "hyperliquidChain": "Testnet", "agentAddress": ADDRESS, "agentName": "x", "nonce": now_ms()}, "nonce": now_ms(), "signature": SIG}),
        # Hyperliquid /info
        Template("POST", "/info", {"type": "userFunding", "user": user, "startTime": 0, "endTime": now_ms()}),
        Template("POST", "/info", {"type": "userFillsByTime", "user": user, "startTime": 0, "aggregateByTime": False}),
        Template("POST", "/info", {"type": "fundingHistory", "coin": "BTC", "startTime": 0}),
        Template("POST", "/info", {"type": "clearinghouseState", "user": user}),
        Template("POST", "/info", {"type": "allMids"}),
        Template("POST", "/info", {"type": "l2Book", "coin": "BTC", "nSigFigs": 5, "mantissa": 2}),
        Template("POST", "/info", {"type": "candleSnapshot", "req": {"coin": "BTC", "interval": "1m", "startTime": 0, "endTime": now_ms()}}),
        Template("POST", "/info", {"type": "orderStatus", "user": user, "oid": CLOID}),
        Template("POST", "/info", {"type": "historicalOrders", "user": user}),
        Template("POST", "/info", {"type": "frontendOpenOrders", "user": user, "dex": ""}),
        Template("POST", "/info", {"type": "portfolio", "user": user}),
        Template("POST", "/info", {"type": "userFees", "user": user}),
        Template("POST", "/info", {"type": "activeAssetData", "user": user, "coin": "ETH"}),
        Template("POST", "/info", {"type": "maxBuilderFee", "user": user, "builder": ADDRESS}),
        Template("POST", "/info", {"type": "recentTrades", "coin": "ETH"}),
        # PaperExchange accounts, trading and billing
        Template("POST", "/v1/auth/register", {"email": "a@example.com", "password": "Abcdef12!x", "plan": "basic"}, costly=True),
        Template("POST", "/v1/auth/login", {"email": "a@example.com", "password": "Abcdef12!x"}, costly=True),
        Template("POST", "/v1/auth/forgot-password", {"email": "a@example.com"}),
        Template("POST", "/v1/auth/reset-password", {"token": "t" * 20, "new_password": "Abcdef12!x"}, costly=True),
        Template("POST", "/v1/auth/api-keys", {"name": "bot"}, headers={"Authorization": f"Bearer {bearer}"}),
        Template("GET", "/v1/auth/me", headers=paperx | {"Authorization": f"Bearer {bearer}"}),
        Template("POST", "/v1/exchanges/hyperliquid/exchange", {"action": {"type": "order", "orders": [order]}}, headers=paperx),
        Template("POST", "/v1/exchanges/hyperliquid/info", {"type": "userFunding", "startTime": 0}, headers=paperx),
        Template("GET", "/v1/exchanges/hyperliquid/account/funding", query={"coin": "BTC", "limit": "10"}, headers=paperx),
        Template("GET", "/v1/exchanges/hyperliquid/account/overview", headers=paperx),
        Template("POST", "/v1/exchanges/hyperliquid/account/reset", headers=paperx),
        Template("POST", "/v1/billing/subscribe", {"plan": "pro"}, headers={"Authorization": f"Bearer {bearer}"}),
        # Kalshi: its signed headers, and a key body under a session
        Template("GET", "/trade-api/v2/api_keys", headers={"KALSHI-ACCESS-KEY": "k" * 36, "KALSHI-ACCESS-TIMESTAMP": str(now_ms()), "KALSHI-ACCESS-SIGNATURE": "c2ln"}),
        Template("POST", "/trade-api/v2/api_keys/generate", {"name": "bot", "scopes": ["read"]}, headers={"Authorization": f"Bearer {member.session_token.reveal()}"}),
        Template("GET", "/trade-api/v2/portfolio/balance", query={"subaccount": "0"}, headers={"Authorization": f"Bearer {member.session_token.reveal()}"}),
        # Aster: V1 signed after the change, V3 forms, web3 JSON, public reads
        Template("POST", "/fapi/v1/order", query={"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "2000", "timeInForce": "GTC", "newClientOrderId": "x1"}, headers=aster_headers, finish=aster_sign),
        Template("GET", "/fapi/v1/income", query={"symbol": "ETHUSDT", "startTime": "0", "endTime": str(now_ms()), "limit": "10", "incomeType": "FUNDING_FEE"}, headers=aster_headers, finish=aster_sign),
        Template("GET", "/fapi/v2/balance", query={"recvWindow": "5000", "timestamp": str(now_ms())}, headers=aster_headers),
        Template("GET", "/fapi/v2/account", query={"recvWindow": "5000"}, headers=aster_headers, finish=aster_sign),
        Template("GET", "/fapi/v2/positionRisk", query={"symbol": "ETHUSDT"}, headers=aster_headers, finish=aster_sign),
        Template("GET", "/fapi/v3/account", query={"user": ADDRESS, "signer": ADDRESS, "nonce": str(now_ms() * 1000), "signature": "0x" + "1" * 130}),
        Template("GET", "/fapi/v3/positionRisk", query={"symbol": "ETHUSDT", "user": ADDRESS, "signer": ADDRESS, "nonce": str(now_ms() * 1000), "signature": "0x" + "1" * 130}),
        Template("POST", "/fapi/v3/order", form={"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01", "user": ADDRESS, "signer": ADDRESS, "nonce": str(now_ms() * 1000), "signature": "0x" + "1" * 130}),
        Template("POST", "/fapi/v3/approveAgent", form={"agentName": "a", "agentAddress": ADDRESS, "ipWhitelist": "", "expired": str(now_ms() + 10**9), "canSpotTrade": "true", "canPerpTrade": "true", "canWithdraw": "false", "asterChain": "Mainnet", "user": ADDRESS, "nonce": str(now_ms() * 1000), "signature": "0x" + "1" * 130}),
        Template("GET", "/fapi/v3/income", query={"user": ADDRESS, "signer": ADDRESS, "nonce": str(now_ms() * 1000), "signature": "0x" + "1" * 130, "startTime": "0"}),
        Template("GET", "/fapi/v1/fundingRate", query={"symbol": "BTCUSDT", "startTime": "0", "endTime": str(now_ms()), "limit": "5"}),
        Template("POST", av.BAPI_PREFIX + "/public/future/web3/get-nonce", {"sourceAddr": ADDRESS, "type": "CREATE_API_KEY"}),
        Template("POST", av.BAPI_PREFIX + "/public/future/web3/broker-create-api-key", {"desc": "d", "network": "56", "signature": "0x" + "1" * 130, "sourceAddr": ADDRESS, "type": "CREATE_API_KEY", "sourceCode": "ae"}),
        # Lighter
        Template("POST", "/api/v1/sendTx", form={"tx_type": "14", "tx_info": '{"AccountIndex":100,"ApiKeyIndex":4,"MarketIndex":0,"ClientOrderIndex":1,"BaseAmount":10,"Price":100,"IsAsk":0,"Type":0,"TimeInForce":1,"ReduceOnly":0,"TriggerPrice":0,"OrderExpiry":0,"ExpiredAt":1,"Nonce":1,"Sig":"AA=="}', "price_protection": "true"}),
        Template("POST", "/api/v1/setMakerOnlyApiKeys", form={"account_index": "100", "api_key_indexes": "[4,5]"}, headers={"Authorization": "x:100:4:abc"}),
        Template("POST", "/api/v1/tokens/create", form={"account_index": "100", "name": "t", "expiry": str(now_ms() + 10**8), "sub_account_access": "false", "scopes": "read.*"}, headers={"Authorization": "ro:100:all:1:abc"}),
        Template("GET", "/api/v1/nextNonce", query={"account_index": "100", "api_key_index": "4"}),
        Template("GET", "/api/v1/accountsByL1Address", query={"l1_address": ADDRESS}),
        Template("GET", "/api/v1/apikeys", query={"account_index": "100", "api_key_index": "255"}),
        Template("POST", "/api/v1/sendTxBatch", form={"tx_types": "[14, 15]", "tx_infos": '["{\\"AccountIndex\\":100}", "{}"]'}),
        Template("GET", "/api/v1/orderBookDetails", query={"market_id": "0", "filter": "perp"}),
        Template("GET", "/api/v1/orderBookOrders", query={"market_id": "1", "limit": "10"}),
        Template("GET", "/api/v1/candles", query={"market_id": "0", "resolution": "1h", "start_timestamp": "0", "end_timestamp": str(now_ms()), "count_back": "10", "set_timestamp_to_end": "true"}),
        Template("GET", "/api/v1/fundings", query={"market_id": "0", "resolution": "1d", "start_timestamp": "0", "end_timestamp": str(now_ms() // 1000), "count_back": "5"}),
        Template("GET", "/api/v1/account", query={"by": "index", "value": "100", "active_only": "false"}),
        Template("GET", "/api/v1/account", query={"by": "l1_address", "value": ADDRESS}),
        Template("GET", "/api/v1/accountActiveOrders", query={"account_index": "100", "market_id": "0"}, headers={"Authorization": "ro:100:all:1:abc"}),
        Template("GET", "/api/v1/accountInactiveOrders", query={"account_index": "100", "limit": "10", "ask_filter": "-1"}, headers={"Authorization": "ro:100:all:1:abc"}),
        Template("GET", "/api/v1/recentTrades", query={"market_id": "0", "limit": "10"}),
        Template("GET", "/api/v1/liquidations", query={"account_index": "100", "limit": "10", "cursor": "5"}, headers={"Authorization": "ro:100:all:1:abc"}),
        Template("GET", "/api/v1/trades", query={"sort_by": "trade_id", "limit": "10", "cursor": "123", "sort_dir": "asc"}),
        Template("GET", "/api/v1/trades", query={"sort_by": "timestamp", "limit": "10", "market_id": "0", "account_index": "-1"}),
        Template("GET", "/api/v1/positionFunding", query={"account_index": "100", "limit": "10", "market_ids": "0,1"}, headers={"Authorization": "ro:100:all:1:abc"}),
        Template("POST", "/api/v1/sendTx", form={"tx_type": "20", "tx_info": '{"AccountIndex":100,"ApiKeyIndex":4,"MarketIndex":0,"InitialMarginFraction":1000,"MarginMode":1,"ExpiredAt":1,"Nonce":1,"Sig":"AA=="}'}),
        Template("POST", "/api/v1/sendTx", form={"tx_type": "29", "tx_info": '{"AccountIndex":100,"ApiKeyIndex":4,"MarketIndex":0,"USDCAmount":25000000,"Direction":1,"ExpiredAt":1,"Nonce":1,"Sig":"AA=="}'}),
        # HyperDEX
        Template("POST", "/api/wallets", {"userId": "u1"}, headers={"X-API-KEY": hyperdex_key}),
        Template("POST", "/api/wallets/u1/sign", {"message": "hello"}, headers={"X-API-KEY": hyperdex_key}),
        Template("POST", "/api/trading/aster/apikey", {"walletIdOrAddress": "u1"}, headers={"X-API-KEY": hyperdex_key}),
        Template("POST", "/api/trading/lighter/import", {"walletIdOrAddress": "u1", "apiKeyPrivateKey": "0x" + "1" * 80, "apiKeyIndex": 4, "accountIndex": 100}, headers={"X-API-KEY": hyperdex_key}),
        # the sandbox's own admin routes
        Template("POST", "/sandbox/hyperliquid/deposit", {"user": ADDRESS, "usdc": 1e12}),
        Template("POST", "/sandbox/aster/deposit", {"address": ADDRESS, "usdt": 1e12}),
        Template("POST", "/sandbox/lighter/deposit", {"l1_address": ADDRESS, "usdc": 1e12}),
        Template("POST", "/sandbox/kalshi/members", {"usage_level": "basic", "email": "m@example.com"}),
        Template("POST", "/sandbox/clock/wait", {"seconds": 0.01}),
        Template("POST", "/sandbox/clock/advance", {"seconds": 1, "wait": False}),
    ]  # fmt: skip


def test_no_hostile_request_gets_a_server_error(fuzz_sandbox):
    templates = _templates(fuzz_sandbox)
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    # SQLite: every field with every hostile value, then random mixes up to CASES; PostgreSQL: every
    # field with every hostile value (the database's own refusals are per value, not per mix)
    total = CASES if fuzz_sandbox.backend == "sqlite" else 0
    with httpx.Client(base_url=fuzz_sandbox.url, timeout=120) as http:
        for case in fuzzing.cases(templates, total):
            try:
                r = http.request(
                    case.method, case.path, content=case.content, params=case.query, headers=case.headers
                )
            except httpx.LocalProtocolError:  # a header value no HTTP client may send
                statuses[0] += 1
                continue
            except httpx.TransportError as exc:  # a dropped connection is a failure too
                failures.append(f"{case.label}: {type(exc).__name__}")
                continue
            statuses[r.status_code] += 1
            if r.status_code >= 500:
                failures.append(f"{case.label}: {r.status_code} {r.text[:200]}")
        assert sum(statuses.values()) + len(failures) >= max(total, 1000)
        assert not failures, f"{len(failures)} cases failed, e.g.:\n" + "\n".join(failures[:30])
        # the venue still works for everyone
        assert http.post("/info", json={"type": "allMids"}).status_code == 200
    client = PaperClient(fuzz_sandbox)
    client.register(f"after-{now_ms()}@example.com", generate_password())
    assert client.overview()["account_value"] > 0


def test_kalshi_headers_are_read_as_the_venue_reads_them(fuzz_sandbox):
    """The generated headers above include these; this pins the answers."""
    with httpx.Client(base_url=fuzz_sandbox.url) as http:
        for stamp in ("²", "١٢٣", "1.5", "9" * 40):
            headers = {
                "KALSHI-ACCESS-KEY": "k",
                "KALSHI-ACCESS-TIMESTAMP": stamp.encode(),
                "KALSHI-ACCESS-SIGNATURE": "c2ln",
            }
            r = http.get(ks.API_PREFIX + "/api_keys", headers=headers)
            assert r.status_code == 401, (stamp, r.text)
