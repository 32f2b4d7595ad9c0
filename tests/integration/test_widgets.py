"""The widgets, driven kernel-free as a user would (set values, click) against the real sandbox.

Every test runs under ``no_callback_errors``: ipywidgets only logs an exception raised in a
callback, so the fixture turns that log line into a failure."""

from __future__ import annotations

import base64
import html
import json
import logging

import ipywidgets as W
import numpy as np
import polars as pl
import pytest

from toolkit.keystore.store import KeyStore
from toolkit.secrets import generate_password
from toolkit.setup import paperx as paperx_keys
from toolkit.venues import hyperliquid as hl
from toolkit.venues.eip712 import Wallet
from toolkit.venues.paperx import PaperClient
from toolkit.widgets import AccountDashboard, KeyPanel, SetupWizard

PLOTLY = "application/vnd.plotly.v1+json"


@pytest.fixture(autouse=True)
def no_callback_errors(caplog):
    caplog.set_level(logging.WARNING)
    yield
    bad = [r for r in caplog.get_records("call") if "Exception in callback" in r.getMessage()]
    assert not bad, f"a widget callback raised: {bad[0].exc_info[1]!r}"


@pytest.fixture
def store(tmp_path):
    return KeyStore.open(tmp_path / "ks", generate_password(), use_keyring=False)


def state_of(widget: W.Widget) -> str:
    """Everything the widget tree would sync to the browser, as one JSON text."""
    seen, out, todo = set(), [], [widget]
    while todo:
        w = todo.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        state = w.get_state()
        out.append(state)
        todo.extend(getattr(w, "children", ()))
        todo.extend(v for v in vars(w).values() if isinstance(v, W.Widget))  # layout, style, ...
    return json.dumps(out, default=str)


def secrets_of(store: KeyStore) -> list[str]:
    return [s.reveal() for e in store.entries() for s in e.secrets.values()]


def text(html_widget: W.HTML) -> str:
    return html.unescape(html_widget.value)


# -- the setup wizard --------------------------------------------------------------------------------


def test_wizard_hyperliquid_refusal_then_fund_and_retry(sandbox, store):
    master = Wallet.generate()
    wizard = SetupWizard(store, sandbox, venue="hyperliquid", network="sandbox")
    assert wizard.check_button.disabled and wizard.run_button.disabled
    wizard.private_key.value = master.private_key.reveal()
    wizard.use_wallet.click()
    assert wizard.private_key.value == ""  # read once, emptied at once
    assert master.address in text(wizard.account)

    wizard.check_button.click()
    assert "1 step(s) to run" in text(wizard.status)
    assert "Approve Agent Wallet" in text(wizard.steps) and (wizard.progress.value, wizard.progress.max) == (
        0,
        1,
    )

    wizard.run_button.click()  # no deposit yet: the venue's own words, and a retry
    refusal = f"User or API Wallet {master.address.lower()} does not exist."
    assert f"the venue refused: {refusal}" in text(wizard.status)
    assert refusal in text(wizard.steps) and "failed" in text(wizard.steps)
    assert wizard.run_button.description == "Retry"
    assert [e.status for e in store.entries()] == ["pending"]

    wizard.fund_button.click()
    assert "deposited 10,000 on the sandbox" in text(wizard.status)
    wizard.run_button.click()
    assert "done: the key is registered" in text(wizard.status)
    assert (wizard.progress.value, wizard.progress.max) == (1, 1) and wizard.run_button.disabled
    (agent,) = store.entries()
    assert agent.status == "active" and agent.public in text(wizard.status)
    with hl.HyperliquidClient(sandbox) as client:
        assert client.user_role(agent.public)["data"]["user"] == master.address.lower()

    wizard.check_button.click()  # satisfied: never asked again
    assert "nothing to do: this account is set up" in text(wizard.status)
    assert "already done" in text(wizard.steps) and len(store.entries()) == 1

    state = state_of(wizard)
    assert all(secret not in state for secret in [*secrets_of(store), master.private_key.reveal()])


def test_wizard_takes_the_wallet_from_the_key_store(sandbox, store):
    master = Wallet.generate()
    sandbox.deposit("hyperliquid", master.address, 100)
    first = SetupWizard(store, sandbox)
    first.private_key.value = master.private_key.reveal()
    first.remember.value = True
    first.use_wallet.click()
    assert [e.kind for e in store.entries()] == ["wallet"]

    again = SetupWizard(store, sandbox)
    again.source.value = "From the key store"
    assert again.stored.options == ((f"wallet {master.address}", master.address),)
    again.use_wallet.click()
    again.check_button.click()
    again.run_button.click()
    assert "done: the key is registered" in text(again.status)
    assert sorted(e.kind for e in store.entries()) == ["agent", "wallet"]


def test_wizard_says_what_is_wrong_with_bad_input(sandbox, store):
    wizard = SetupWizard(store, sandbox)
    wizard.private_key.value = "0x1234"
    wizard.use_wallet.click()
    assert "that is not a private key: 32 bytes of hex, with or without 0x" in text(wizard.status)
    assert wizard.private_key.value == "" and "0x1234" not in state_of(wizard)
    wizard.source.value = "From the key store"
    wizard.use_wallet.click()
    assert "the key store holds no wallet yet" in text(wizard.status)
    wizard.venue.value = "paperx"
    wizard.email.value, wizard.password.value = "nobody@example.com", "wrong password"
    wizard.use_account.click()
    assert "401: Invalid email or password" in text(wizard.status)
    assert wizard.password.value == ""


def test_wizard_lighter_says_deposit_first_then_registers(sandbox, store):
    wallet = Wallet.generate()
    wizard = SetupWizard(store, sandbox, venue="lighter")
    assert wizard.network.options == ("sandbox", "testnet", "mainnet")
    wizard.private_key.value = wallet.private_key.reveal()
    wizard.use_wallet.click()
    wizard.check_button.click()
    assert "has no Lighter account yet. Deposit first" in text(wizard.status)
    wizard.fund_button.click()
    wizard.check_button.click()
    wizard.run_button.click()
    assert "done: the key is registered" in text(wizard.status)
    (key,) = store.find(venue="lighter")
    assert key.status == "active" and key.key_ref == "42"


def test_wizard_aster_kalshi_and_paperx(sandbox, store):
    wizard = SetupWizard(store, sandbox)
    wizard.venue.value = "aster"
    wizard.private_key.value = Wallet.generate().private_key.reveal()
    wizard.use_wallet.click()
    wizard.check_button.click()
    wizard.run_button.click()
    assert "done: the key is registered" in text(wizard.status)

    wizard.venue.value = "kalshi"
    assert wizard.network.options == ("sandbox", "demo", "production")
    assert wizard.password.description == "Session token"
    wizard.sandbox_account.click()
    wizard.check_button.click()
    wizard.run_button.click()
    assert "done: the key is registered" in text(wizard.status)

    member = wizard.email.value
    assert "@" in member  # the new member's email, filled in
    wizard.password.value = "typed, then the venue changed"
    wizard.venue.value = "paperx"
    assert (wizard.email.value, wizard.password.value) == ("", "")  # the member is not a PaperExchange user
    assert wizard.password.description == "Password"
    wizard.email.value, wizard.password.value = "wizard-user@example.com", generate_password().reveal()
    wizard.sandbox_account.click()
    assert wizard.password.value == "" and "opened wizard-user@example.com" in text(wizard.status)
    wizard.check_button.click()
    wizard.run_button.click()
    assert "done: the key is registered" in text(wizard.status)
    assert sorted(e.venue for e in store.entries() if e.status == "active") == ["aster", "kalshi", "paperx"]
    state = state_of(wizard)
    assert all(secret not in state for secret in secrets_of(store))


def test_a_bug_in_a_callback_is_shown_and_reported(sandbox, store, caplog):
    wizard = SetupWizard(store, sandbox)
    wizard.private_key.value = Wallet.generate().private_key.reveal()
    wizard.use_wallet.click()

    def broken() -> bool:
        raise RuntimeError("a bug, not a refusal")

    wizard.flow.check = broken
    wizard.check_button.click()
    assert "RuntimeError: a bug, not a refusal" in text(wizard.error)
    reported = [r for r in caplog.get_records("call") if "Exception in callback" in r.getMessage()]
    assert len(reported) == 1
    caplog.clear()  # seen: the guard fixture would otherwise (rightly) fail this test


# -- the key panel -------------------------------------------------------------------------------------


@pytest.mark.moves_clock
def test_key_panel_lists_rotates_revokes_and_copies(sandbox, store):
    master = Wallet.generate()
    sandbox.deposit("hyperliquid", master.address, 100)
    wizard = SetupWizard(store, sandbox)
    wizard.private_key.value, wizard.remember.value = master.private_key.reveal(), True
    wizard.use_wallet.click()
    wizard.check_button.click()
    wizard.run_button.click()

    panel = KeyPanel(store, sandbox, tick_seconds=None)
    table = text(panel.table)
    assert "toolkit-keys-table" in table and "hyperliquid" in table and "evm" in table
    assert "private_key=****" in table  # fingerprints, masked
    assert "29 d 23 h left" in table or "30 d 0 h left" in table
    agent = next(e for e in store.entries() if e.kind == "agent")
    panel.key.value = agent.id
    panel.copy_button.click()
    assert panel.clipboard.value == agent.public and agent.public in panel.copy_html.value

    sandbox.advance(hours=24)
    panel.tick()
    assert "28 d 23 h left" in text(panel.table) or "29 d 0 h left" in text(panel.table)

    panel.rotate_button.click()  # the master wallet is in the key store: nothing to type
    assert "rotated: the new key is" in text(panel.status)
    new = store.get(panel.key.value)
    assert new.status == "active" and store.get(agent.id).status == "revoked"
    with hl.HyperliquidClient(sandbox) as client:
        assert client.user_role(new.public)["role"] == "agent"
        assert client.user_role(agent.public)["role"] == "missing"

    panel.revoke_button.click()
    assert f"revoked {new.key_ref}" in text(panel.status) and store.get(new.id).status == "revoked"
    panel.revoke_button.click()
    assert "this key is revoked already" in text(panel.status)

    state = state_of(panel)
    assert all(secret not in state for secret in secrets_of(store))


def test_key_panel_asks_for_what_a_venue_needs(sandbox, store, new_account):
    account = new_account()

    entry = paperx_keys.save_paperx_key(store, sandbox.url, account.email, account.client.create_api_key("k"))
    panel = KeyPanel(store, sandbox, tick_seconds=None)
    panel.key.value = entry.id
    panel.rotate_button.click()
    assert "PaperExchange keys are managed with a login: type the account's password" in text(panel.status)
    panel.credential.value = account.password.reveal()
    panel.rotate_button.click()
    assert panel.credential.value == "" and "rotated" in text(panel.status)
    assert store.get(entry.id).status == "revoked"

    panel.new_button.click()  # create: the wizard, inside the panel
    (wizard,) = panel.wizard_box.children
    assert isinstance(wizard, SetupWizard)


def test_key_panel_countdown_ticks_on_its_own(sandbox, store):
    import time

    panel = KeyPanel(store, sandbox, tick_seconds=0.05)
    drawn = []
    panel.table.observe(lambda change: drawn.append(change["new"]), names="value")
    from toolkit.keystore import lifecycle

    lifecycle.save_wallet(store, Wallet.generate())
    deadline = time.monotonic() + 5
    while not drawn and time.monotonic() < deadline:
        time.sleep(0.05)
    panel.close()
    assert drawn and "evm" in drawn[-1] and not panel.ticker.running


# -- the account dashboard -------------------------------------------------------------------------------


def plotted(values):
    """A trace's numbers as a list (plotly writes arrays as base64 ``bdata``)."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


@pytest.mark.moves_clock
def test_dashboard_of_a_paper_account(sandbox, new_account):
    account = new_account("pro")
    key = account.client.create_api_key("dashboard")
    paper = PaperClient(sandbox, api_key=key.api_key)
    paper.order("ETH", True, 1.0)
    mids = paper.info({"type": "allMids"})
    paper.order("BTC", True, 0.01, price=round(float(mids["BTC"]) * 0.5))  # rests far below
    dash = AccountDashboard(paper)
    assert "ETH" in text(dash.positions) and "toolkit-positions-table" in text(dash.positions)
    assert "BTC" in text(dash.orders) and "buy" in text(dash.orders)
    assert "Account value" in text(dash.overview) and "Trades" in text(dash.overview)
    assert dash.forward_buttons[0].layout.display != "none"

    dash.forward_buttons[1].click()  # +8 h, an hour at a time
    assert (dash.forward_progress.value, dash.forward_progress.max) == (8, 8)
    assert "moved 8 h ahead in 8 steps" in text(dash.status)
    funding = dash.snapshot.funding
    assert funding.height == 8 and set(funding["coin"].cast(pl.String)) == {"ETH"}
    assert text(dash.funding).count("<tr>") == 9  # header + 8 payments
    (equity,) = dash.equity_plot.outputs
    spec = equity["data"][PLOTLY]
    history = dash.snapshot.equity  # rebuilt from the account's history, from its first event on
    assert history.height >= 9 and len(spec["data"][0]["x"]) == history.height
    assert spec["layout"]["title"]["text"] == "Equity"
    assert history["account_value"][-1] == pytest.approx(dash.snapshot.overview["account_value"], rel=1e-3)
    assert history["account_value"][0] == pytest.approx(
        100_000, abs=0.01
    )  # the pro plan's balance, at opening
    (cumulative,) = dash.funding_plot.outputs
    assert cumulative["data"][PLOTLY]["data"][0]["name"] == "ETH"
    (prices,) = dash.price_plot.outputs
    traces = {t["name"]: t for t in prices["data"][PLOTLY]["data"]}
    assert {"ETH price", "ETH buys", "BTC price"} <= set(traces)  # held, traded, and resting on
    (buy,) = dash.snapshot.fills.filter(pl.col("coin") == "ETH").rows(named=True)
    assert plotted(traces["ETH buys"]["y"]) == [buy["px"]]  # the chart's marker is the fill's own price
    closes = dash.snapshot.prices.filter(pl.col("coin") == "ETH")
    assert closes.height >= 24 * 30 and plotted(traces["ETH price"]["y"])[-1] == closes["close"][-1]

    dash.refresh_button.click()
    assert dash.snapshot.equity["time"][0] == history["time"][0]  # still from the first event
    assert key.api_key.reveal() not in state_of(dash)
    dash.close()


@pytest.mark.moves_clock
def test_dashboard_shows_a_liquidation(sandbox):
    wallet = Wallet.generate()
    user = wallet.address.lower()
    sandbox.deposit("hyperliquid", user, 60)
    with hl.HyperliquidClient(sandbox, wallet=wallet) as client:
        client.l1_action({"type": "updateLeverage", "asset": 5, "isCross": True, "leverage": 10})
        mark = float(client.info({"type": "allMids"})["ARB"])
        client.order([hl.order_wire(5, True, f"{mark * 1.05:.5g}", round(500 / mark, 1), tif="Ioc")])
    dash = AccountDashboard(sandbox, user=user)
    assert "ARB" in text(dash.positions) and "no liquidations" in text(dash.liquidations)
    for _ in range(60):
        dash.fast_forward(24)
        if dash.snapshot.liquidations.height:
            break
    assert "toolkit-liquidations-table" in text(dash.liquidations) and "long" in text(dash.liquidations)
    assert "no open positions" in text(dash.positions)
    dash.close()


def test_dashboard_refuses_what_it_cannot_do(sandbox):
    from toolkit.widgets import AccountWatch

    with pytest.raises(ValueError, match=r"a Hyperliquid account needs user=<its address>"):
        AccountDashboard(sandbox)
    remote = AccountWatch("testnet", user=Wallet.generate().address)
    with pytest.raises(
        ValueError, match="fast-forward moves the sandbox's clock: this account is not on the sandbox"
    ):
        remote.fast_forward(1)
    on_sandbox = AccountWatch(sandbox, user=Wallet.generate().address)
    with pytest.raises(ValueError, match="hours and step_hours must be positive"):
        on_sandbox.fast_forward(0)


def test_dashboard_auto_refresh_turns_on_and_off(sandbox, new_account):
    import time

    account = new_account()
    paper = PaperClient(sandbox, api_key=account.client.create_api_key("auto").api_key)
    dash = AccountDashboard(paper)
    first = dash.snapshot
    dash.every.value = 2
    dash.auto.value = True
    assert dash.ticker is not None and dash.ticker.running
    deadline = time.monotonic() + 20
    while dash.snapshot is first and time.monotonic() < deadline:
        time.sleep(0.1)
    assert dash.snapshot is not first  # refreshed by the ticker, not by a click
    ticker = dash.ticker
    dash.auto.value = False
    assert dash.ticker is None and not ticker.running
    dash.close()


def test_setup_flow_refuses_unknown_choices(store):
    from toolkit.widgets import SetupFlow

    flow = SetupFlow(store, sandbox=None)
    with pytest.raises(
        ValueError,
        match=r"venue must be one of \['aster', 'hyperliquid', 'kalshi', 'lighter', 'paperx'\], not 'dydx'",
    ):
        flow.choose("dydx")
    with pytest.raises(
        ValueError,
        match=r"Kalshi networks are \['sandbox', 'demo', 'production'\], not 'mainnet'",
    ):
        flow.choose("kalshi", "mainnet")
    with pytest.raises(
        ValueError, match=r"the sandbox network needs a sandbox: pass one, e.g. SetupWizard\(store"
    ):
        flow.client()  # the sandbox network, and no sandbox given: a widget never starts one
    flow.choose("hyperliquid", "testnet")
    flow.use_private_key(Wallet.generate().private_key)
    with pytest.raises(ValueError, match="funding by hand exists only on the sandbox: deposit on the venue"):
        flow.fund()
    with pytest.raises(ValueError, match="Hyperliquid setup takes a wallet, not a login"):
        flow.use_login("a@example.com", "pw")
    with pytest.raises(ValueError, match="check first: the steps come from the check"):
        flow.run()
