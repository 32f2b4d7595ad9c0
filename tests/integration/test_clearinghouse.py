"""One clearinghouse behind every paper venue: an order is stored before it is answered, every
venue's balance reads the one money ledger, and a deposit lands with its venue row or not at all."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

import toolkit.sandbox
from tests.integration.conftest import database_of
from toolkit.sandbox.engine.core import Engine
from toolkit.venues import aster as av
from toolkit.venues import hyperliquid as hl
from toolkit.venues.eip712 import Wallet
from toolkit.venues.paperx import PaperClient

pytestmark = pytest.mark.both_backends  # keys, accounts and exactly-once: on SQLite and PostgreSQL


def _rows(sb, query: str, **params) -> list[tuple]:
    engine = database_of(sb)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(query), params)]
    finally:
        engine.dispose()


def test_an_aster_fill_is_stored_before_the_answer_and_every_read_shows_it(own_sandbox, own_state):
    wallet = Wallet.generate()
    own_sandbox.deposit("aster", wallet.address, 10_000)
    client = av.AsterClient(own_sandbox)
    client.create_api_key(wallet, "bot")
    order = client.order("ETHUSDT", "BUY", "2")
    assert order["status"] == "FILLED"
    account = own_state.clearinghouse.account(f"aster:{wallet.address.lower()}")
    # in the database when the answer arrives: no later request needed to flush it
    stored = _rows(own_sandbox, "select coin, sz, fee from pp_fills where account = :v", v=account)
    fee = 2 * float(order["avgPrice"]) * 0.00045
    assert stored == [("ETH", 2.0, pytest.approx(fee))]

    (balance,) = client.balance()
    (risk,) = client.v1("GET", "/fapi/v2/positionRisk")
    whole = client.v1("GET", "/fapi/v2/account")
    upnl = float(risk["unRealizedProfit"])
    assert float(balance["balance"]) == pytest.approx(10_000 - fee, abs=1e-6)
    # reads a moment apart see the mark move a little (the clock runs): cents, not dollars
    assert (
        float(balance["crossUnPnl"]) == pytest.approx(upnl, abs=0.05)
        and balance["crossUnPnl"] != "0.00000000"
    )
    assert upnl == pytest.approx(2 * (float(risk["markPrice"]) - float(risk["entryPrice"])), abs=1e-3)
    margin = 2 * float(risk["markPrice"]) / int(risk["leverage"])
    assert float(balance["availableBalance"]) == pytest.approx(10_000 - fee + upnl - margin, abs=0.05)
    assert (risk["symbol"], risk["positionAmt"], risk["marginType"]) == ("ETHUSDT", "2.0000", "cross")
    assert float(whole["totalWalletBalance"]) == pytest.approx(10_000 - fee, abs=1e-6)
    assert float(whole["totalUnrealizedProfit"]) == pytest.approx(upnl, abs=0.05)
    assert float(whole["availableBalance"]) == pytest.approx(float(balance["availableBalance"]), abs=0.05)
    (position,) = whole["positions"]
    assert (position["symbol"], position["positionAmt"]) == ("ETHUSDT", "2.0000")
    assert float(position["initialMargin"]) == pytest.approx(margin, abs=0.01)
    # the V3 reads are the same numbers
    assert client.v1("GET", "/fapi/v2/positionRisk", {"symbol": "BTCUSDT"}) == []
    with pytest.raises(av.AsterError) as refused:
        client.v1("GET", "/fapi/v2/positionRisk", {"symbol": "NOPEUSDT"})
    assert (refused.value.code, refused.value.msg) == (-1121, "Invalid symbol.")


def test_aster_balance_is_the_engines_cash_not_the_deposits(own_sandbox, own_state):
    wallet = Wallet.generate()
    own_sandbox.deposit("aster", wallet.address, 10_000)
    client = av.AsterClient(own_sandbox)
    client.create_api_key(wallet, "bot")
    client.order("ETHUSDT", "BUY", "1")
    client.order("ETHUSDT", "SELL", "1")
    (balance,) = client.balance()
    cash = own_state.clearinghouse.view(f"aster:{wallet.address.lower()}").cash
    assert float(balance["balance"]) == pytest.approx(cash, abs=1e-8) and cash < 10_000
    assert balance["crossUnPnl"] == "0.00000000"


@pytest.mark.parametrize("venue", ["hyperliquid", "aster"])
def test_a_deposit_lands_with_its_venue_row_or_not_at_all(own_sandbox, own_state, monkeypatch, venue):
    user = Wallet.generate().address.lower()
    table, key = {"hyperliquid": ("hl_accounts", "user"), "aster": ("as_accounts", "address")}[venue]

    def broken(self, account, usdc):
        raise RuntimeError("injected: the engine fails after the venue row is written")

    monkeypatch.setattr(Engine, "deposit", broken)
    with pytest.raises(toolkit.sandbox.SandboxError, match="500"):
        own_sandbox.deposit(venue, user, 1_000)
    assert _rows(own_sandbox, f'select * from {table} where "{key}" = :v', v=user) == []
    assert own_state.clearinghouse.account(f"{venue}:{user}") is None
    monkeypatch.undo()
    # the other half failing: the clearinghouse's rows cannot be stored
    store = own_state.clearinghouse.store
    monkeypatch.setattr(store, "commit", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("injected")))
    with pytest.raises(toolkit.sandbox.SandboxError, match="500"):
        own_sandbox.deposit(venue, user, 1_000)
    assert _rows(own_sandbox, f'select * from {table} where "{key}" = :v', v=user) == []
    monkeypatch.undo()
    # and once nothing is broken, both land
    own_sandbox.deposit(venue, user, 1_000)
    assert len(_rows(own_sandbox, f'select * from {table} where "{key}" = :v', v=user)) == 1
    assert own_state.clearinghouse.view(f"{venue}:{user}").cash == 1_000
    # the venue tables hold identity only: no balance lives there any more
    column = {"hyperliquid": "deposited_micro_usdc", "aster": "balance_micro_usdt"}[venue]
    assert _rows(own_sandbox, f'select {column} from {table} where "{key}" = :v', v=user) == [(0,)]


def test_a_paperexchange_account_opens_with_its_plan_or_not_at_all(own_sandbox, own_state, monkeypatch):
    client = PaperClient(own_sandbox)
    client.register("ch-test@example.com", "correct horse battery staple 42", plan="basic")
    key = client.create_api_key("bot")
    bot = PaperClient(own_sandbox, api_key=key.api_key)
    store = own_state.clearinghouse.store
    monkeypatch.setattr(store, "commit", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("injected")))
    response = httpx.get(
        f"{own_sandbox.url}/v1/exchanges/hyperliquid/account/overview",
        headers={"X-API-Key": key.api_key.reveal()},
    )
    assert (response.status_code, response.json()) == (500, {"detail": "Internal server error"})
    assert _rows(own_sandbox, "select count(*) from pp_accounts") == [(0,)]
    monkeypatch.undo()
    assert bot.overview()["account_value"] == 10_000
    assert bot.overview()["initial_balance"] == 10_000  # opened once, not twice
    client.close()
    bot.close()


def test_orders_arriving_together_share_commits_and_each_is_answered_after_its_own(own_sandbox):
    """Group commit: many clients at once, every answer's fill already stored, none lost."""
    import threading

    wallets = [Wallet.generate() for _ in range(8)]
    for w in wallets:
        own_sandbox.deposit("hyperliquid", w.address, 100_000)
    problems: list[str] = []

    def trade(wallet: Wallet) -> None:
        with hl.HyperliquidClient(own_sandbox, wallet=wallet) as client:
            for i in range(15):
                status = client.order(
                    [hl.order_wire(1, i % 2 == 0, "9000" if i % 2 == 0 else "500", "0.05", tif="Ioc")]
                )
                oid = status["response"]["data"]["statuses"][0]["filled"]["oid"]
                if not _rows(own_sandbox, "select 1 from pp_fills where oid = :v", v=oid):
                    problems.append(f"fill of {oid} answered before it was stored")

    threads = [threading.Thread(target=trade, args=(w,)) for w in wallets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems == []
    assert _rows(own_sandbox, "select count(*) from pp_fills") == [(8 * 15,)]


def test_a_withdrawal_takes_cash_out_only_up_to_what_is_withdrawable(own_sandbox, own_state):
    from toolkit.sandbox.engine.specs import OrderRejected, Reason

    ch = own_state.clearinghouse
    ch.deposit("hyperliquid:0x" + "1" * 40, 1_000)
    assert ch.withdraw("hyperliquid:0x" + "1" * 40, 400) == 600
    with pytest.raises(OrderRejected) as refused:
        ch.withdraw("hyperliquid:0x" + "1" * 40, 601)
    assert refused.value.reason is Reason.WITHDRAW and refused.value.context["withdrawable"] == 600
    ledger = ch.engine.ledger(ch.account("hyperliquid:0x" + "1" * 40))
    assert ledger["cash"] == ledger["deposits"] - ledger["withdrawn"] == 600
