"""PaperExchange billing and rate limits (seed 003): the subscription view, checkout sessions paid or
expired through the sandbox, plans that lapse and come back, and per-key request limits."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from toolkit.sandbox import paperx_policy as policy
from toolkit.venues.paperx import PaperClient, PaperExchangeError


def test_a_new_account_is_on_a_three_day_trial(account):
    sub = account.client.subscription()
    assert (sub.status, sub.plan, sub.days_remaining) == ("trial", "basic", 3)
    assert sub.current_period_end - sub.current_period_start == timedelta(days=3)
    assert sub.features.model_dump() == {
        "balance": 10_000,
        "api_keys": 3,
        "rate_limit": 100,
        "history_days": 30,
    }


def test_paying_a_checkout_activates_the_plan_for_a_month(sandbox, account):
    client = account.client
    session = client.subscribe("pro")
    assert (session.plan, session.amount, session.original_amount, session.discount, session.currency) == (
        "pro",
        30.0,
        50.0,
        20.0,
        "USD",
    )  # fmt: skip  (a first payment is discounted: the documented example)
    assert session.checkout_url == f"{sandbox.url}/sandbox/checkout/{session.session_id}"
    assert client.checkout(session.session_id).status == "open"
    paid = sandbox.confirm_checkout(session.session_id)
    assert paid["status"] == "paid" and paid["paid_at"] is not None

    sub = client.subscription()
    assert (sub.status, sub.plan, sub.days_remaining) == ("active", "pro", 30)
    assert sub.current_period_end - sub.current_period_start == timedelta(days=30)
    assert sub.features.model_dump() == {
        "balance": 100_000,
        "api_keys": 10,
        "rate_limit": 500,
        "history_days": 90,
    }
    me = client.me()
    assert (me.plan, me.subscription_status, me.payment_required) == ("pro", "active", False)

    renewal = client.subscribe("pro")  # paid early: the next month follows this one
    assert (renewal.amount, renewal.original_amount, renewal.discount) == (50.0, 50.0, 0.0)
    sandbox.confirm_checkout(renewal.session_id)
    sub_after = client.subscription()
    assert sub_after.days_remaining == 60
    assert sub_after.current_period_end == sub.current_period_end  # the running period is still the first


@pytest.mark.moves_clock
def test_a_lapsed_trial_trades_again_once_paid_and_a_lapsed_month_stops_it(sandbox, account):
    client = account.client
    bot = PaperClient(sandbox, api_key=client.create_api_key("bot").api_key)
    sandbox.advance(hours=73)
    with pytest.raises(PaperExchangeError) as err:
        bot.order("ETH", True, 0.1)
    assert (err.value.status, err.value.detail) == (403, "Trial expired")
    client.login(account.email, account.password)  # logins last a day
    assert client.subscription().status == "expired" and client.me().payment_required

    sandbox.confirm_checkout(client.subscribe("basic").session_id)
    assert "filled" in bot.order("ETH", True, 0.1)

    sandbox.advance(hours=30 * 24 + 1)
    with pytest.raises(PaperExchangeError) as err:
        bot.order("ETH", True, 0.1)
    assert (err.value.status, err.value.detail) == (403, "Subscription expired")
    assert bot.subscription().days_remaining == 0
    bot.close()


@pytest.mark.moves_clock
def test_checkout_sessions_expire_and_are_paid_once(sandbox, account):
    client = account.client
    late = client.subscribe("basic")
    sandbox.advance(minutes=policy.CHECKOUT_LIFETIME_MINUTES + 1)
    assert client.checkout(late.session_id).status == "expired"
    with pytest.raises(Exception, match="Checkout session is expired: it cannot be paid"):
        sandbox.confirm_checkout(late.session_id)

    abandoned = client.subscribe("basic")
    assert sandbox.expire_checkout(abandoned.session_id)["status"] == "expired"
    with pytest.raises(Exception, match="Checkout session is expired: it cannot be paid"):
        sandbox.confirm_checkout(abandoned.session_id)

    paid = client.subscribe("basic")
    sandbox.confirm_checkout(paid.session_id)
    with pytest.raises(Exception, match="Checkout session is paid: it cannot be paid"):
        sandbox.confirm_checkout(paid.session_id)
    with pytest.raises(Exception, match="Checkout session is paid: it cannot expire"):
        sandbox.expire_checkout(paid.session_id)
    assert client.subscription().status == "active"


def test_billing_refusals(sandbox, account, new_account, http):
    r = http.post("/v1/billing/subscribe", json={"plan": "gold"}, headers=account.bearer)
    assert r.status_code == 400 and r.json()["detail"].startswith("plan: Input should be 'basic' or 'pro'")
    r = http.post("/v1/billing/subscribe", json={"plan": "pro"})
    assert r.status_code == 401
    key = account.client.create_api_key("bot")
    r = http.post("/v1/billing/subscribe", json={"plan": "pro"}, headers={"X-API-Key": key.api_key.reveal()})
    assert (r.status_code, r.json()) == (
        403, {"detail": "API keys cannot manage billing: log in and use Authorization: Bearer"},
    )  # fmt: skip
    mine = account.client.subscribe("pro")
    with pytest.raises(PaperExchangeError) as err:
        new_account().client.checkout(mine.session_id)
    assert (err.value.status, err.value.detail) == (404, "Checkout session not found")
    with pytest.raises(Exception, match="Checkout session not found"):
        sandbox.confirm_checkout("no-such-session")


def _at_the_start_of_a_window(margin: float = 15.0) -> None:
    """Rate windows are whole wall-clock minutes: begin a burst well inside one."""
    left = policy.RATE_LIMIT_WINDOW_SECONDS - time.time() % policy.RATE_LIMIT_WINDOW_SECONDS
    if left < margin:
        time.sleep(left + 0.05)


def test_each_api_key_gets_its_plans_requests_per_minute(sandbox, account, http):
    first, second = account.client.create_api_key("a"), account.client.create_api_key("b")
    _at_the_start_of_a_window()
    body = {"type": "allMids"}
    remaining = []
    for _ in range(100):
        r = http.post(
            "/v1/exchanges/hyperliquid/info", json=body, headers={"X-API-Key": first.api_key.reveal()}
        )
        assert r.status_code == 200
        remaining.append(int(r.headers["X-RateLimit-Remaining"]))
        assert r.headers["X-RateLimit-Limit"] == "100"
    assert remaining == list(range(99, -1, -1))
    reset = int(r.headers["X-RateLimit-Reset"])
    assert 0 < reset - time.time() <= 60 and reset % 60 == 0

    r = http.post("/v1/exchanges/hyperliquid/info", json=body, headers={"X-API-Key": first.api_key.reveal()})
    assert r.status_code == 429
    assert r.json()["detail"].startswith(
        "Rate limit exceeded: 100 requests per minute per API key on the basic plan; retry after"
    )
    assert r.headers["X-RateLimit-Remaining"] == "0" and 1 <= int(r.headers["Retry-After"]) <= 60
    # the other key has its own budget, and a login is not limited
    r = http.post("/v1/exchanges/hyperliquid/info", json=body, headers={"X-API-Key": second.api_key.reveal()})
    assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == "99"
    r = http.post("/v1/exchanges/hyperliquid/info", json=body, headers=account.bearer)
    assert r.status_code == 200 and "X-RateLimit-Limit" not in r.headers
    # the client reports the refusal with the venue's words
    with pytest.raises(PaperExchangeError) as err, PaperClient(sandbox, api_key=first.api_key) as bot:
        bot.info(body)
    assert err.value.status == 429


def test_the_rate_limit_headers_ride_on_errors_too(account, http):
    key = account.client.create_api_key("bot")
    _at_the_start_of_a_window()
    r = http.post(
        "/v1/exchanges/hyperliquid/info", json={"type": "nope"}, headers={"X-API-Key": key.api_key.reveal()}
    )
    assert r.status_code == 400 and r.headers["X-RateLimit-Remaining"] == "99"
