"""One registry of venues, and every layer serves every venue in it: setup and each venue's key life,
the provider descriptors, the wizard, the sandbox handle's funding, and the clients themselves."""

from __future__ import annotations

import pytest

import toolkit.sandbox
from toolkit import setup
from toolkit.keystore import lifecycle
from toolkit.keystore.store import Entry
from toolkit.venues import providers, registry
from toolkit.widgets import setup_flow

NAMES = sorted(registry.VENUES)


def test_every_layer_serves_exactly_the_registered_venues():
    for name in NAMES:  # setup finds each venue's steps by its name
        steps = setup._venue(name)
        assert all(callable(getattr(steps, f)) for f in ("check", "sign", "execute")), name
    assert sorted(providers.PROVIDERS) == NAMES
    assert sorted(setup_flow.VENUES) == NAMES and sorted(setup_flow.NETWORKS) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_venue_is_whole(name):
    spec = registry.spec(name)
    assert spec.networks[0] == "sandbox" and len(set(spec.networks)) == len(spec.networks) > 1
    assert issubclass(spec.error_class(), Exception)
    keys = lifecycle.adapter(
        Entry(venue=name, kind=spec.key_kind, network="sandbox", account="a", key_ref="k")
    )
    assert keys.venue == name and all(
        callable(getattr(keys, f)) for f in ("refresh", "rotate", "revoke", "options")
    )
    if spec.credential == "wallet":  # a wallet's address is funded by hand on the sandbox
        assert callable(getattr(toolkit.sandbox.Sandbox, spec.sandbox_deposit or "", None))
    else:
        assert spec.sandbox_deposit is None
    for network in spec.networks[1:]:  # a client for each real network, made without a request
        client = spec.client(network)
        try:
            assert client.base_url.startswith("https://")
        finally:
            client.close()


def test_an_unknown_venue_or_network_is_refused_by_name():
    with pytest.raises(NotImplementedError, match="no key lifecycle for venue 'dydx' yet"):
        lifecycle.adapter(Entry(venue="dydx", kind="api_key", network="mainnet", account="a", key_ref="k"))
    with pytest.raises(
        setup.SetupError, match=r"setup descriptors are served for \['aster', .*\], not 'dydx'"
    ):
        setup._venue("dydx")
    with pytest.raises(
        ValueError,
        match=r"venue must be one of \['aster', 'hyperliquid', 'kalshi', 'lighter', 'paperx'\], not 'dydx'",
    ):
        registry.spec("dydx")
    with pytest.raises(
        ValueError, match=r"Kalshi networks are \['sandbox', 'demo', 'production'\], not 'mainnet'"
    ):
        registry.spec("kalshi").client("mainnet")
