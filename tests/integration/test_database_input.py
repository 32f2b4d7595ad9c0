"""Values one database keeps and the other refuses: a NUL character is refused at the door, in each
venue's envelope, on SQLite and PostgreSQL alike; any other value the database refuses (SQLSTATE class
22: text past its column, a number past its type) answers 400, never 500, with nothing written and
no value quoted back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from toolkit.venues.paperx import PaperClient

pytestmark = pytest.mark.both_backends

NUL_JSON = "JSON text holds a NUL character (\\u0000)"


def test_a_nul_in_json_is_refused_in_each_venues_words(http, account):
    bearer = account.bearer
    r = http.post("/v1/auth/api-keys", json={"name": "bot\x00"}, headers=bearer)
    assert (r.status_code, r.json()) == (400, {"detail": NUL_JSON})
    r = http.post("/info", json={"type": "clearinghouseState", "user": "0x" + "ab" * 19 + "\x00b"})
    assert (r.status_code, r.text) == (
        422,
        f"Failed to deserialize the JSON body into the target type: {NUL_JSON}",
    )
    r = http.post("/api/v1/sendTx", json={"tx_type": 14, "tx_info": "\x00"})
    assert (r.status_code, r.json()) == (400, {"code": 20001, "message": NUL_JSON})
    assert account.client.api_keys() == []  # nothing was stored
    # an escaped backslash before "u0000" is text, not a NUL: it reaches the venue's own checks
    json = {"content-type": "application/json"}
    r = http.post("/v1/auth/api-keys", content=b'{"name": "bot\\\\u0000"}', headers=bearer | json)
    assert r.status_code == 200 and r.json()["name"] == "bot\\u0000"


def test_a_nul_in_a_query_or_a_form_is_refused_in_each_venues_words(http, account):
    bearer = account.bearer
    r = http.get("/v1/exchanges/hyperliquid/account/funding", params={"coin": "BTC\x00"}, headers=bearer)
    assert (r.status_code, r.json()) == (400, {"detail": "Query string holds a NUL character (%00)"})
    r = http.post("/fapi/v1/order", data={"symbol": "BTCUSDT\x00", "side": "BUY"})
    assert (r.status_code, r.json()) == (400, {"code": -1102, "msg": "Form body holds a NUL character (%00)"})
    r = http.get("/fapi/v1/premiumIndex", params={"symbol": "\x00"})
    assert (r.status_code, r.json()) == (
        400,
        {"code": -1102, "msg": "Query string holds a NUL character (%00)"},
    )
    assert http.post("/info", json={"type": "allMids"}).status_code == 200  # and the server is fine


def test_any_value_the_database_refuses_is_400_with_nothing_written(http, account, sandbox, monkeypatch):
    """The net under every route: a data exception (here injected where the funding read meets the
    database) is the caller's bad input, answered in the venue's envelope without the value."""
    clearinghouse = sandbox._server.config.app.state.sandbox.clearinghouse
    refused = sa.exc.DataError(
        "SELECT ...", {}, Exception("value too long for type character varying(16)\nDETAIL: 'hunter2-secret'")
    )

    def too_long(*args, **kwargs):
        raise refused

    monkeypatch.setattr(clearinghouse, "funding", too_long)
    r = http.get("/v1/exchanges/hyperliquid/account/funding", params={"coin": "BTC"}, headers=account.bearer)
    assert (r.status_code, r.json()) == (
        400,
        {
            "detail": "The request holds a value the database refuses: value too long for type character varying(16)"
        },
    )
    assert "hunter2" not in r.text
    monkeypatch.undo()
    client = PaperClient(sandbox, access_token=account.session.access_token)
    assert client.funding()["funding_payments"] == []
