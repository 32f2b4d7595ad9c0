"""One registry of venues, and every layer serves every venue in it: setup and each venue's key life,
the provider descriptors, the wizard, the sandbox handle's funding, and the clients themselves."""

from __future__ import annotations

import pytest

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
        assert spec.sandbox_funding is not None and spec.sandbox_funding.path == f"/{name}/deposit"
    else:
        assert spec.sandbox_funding is None
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


# -- a venue added from outside: one registry entry and a stub client, no other module touched -----


class DummyError(Exception):
    """The stub venue's refusals."""


class DummyClient:
    """A client that makes no request: enough for the registry's contract."""

    def __init__(self, target: object = None, **options: object) -> None:
        self.base_url = "https://api.dummy.example" if isinstance(target, str) else "http://sandbox"
        self.network = target if isinstance(target, str) else "sandbox"

    def close(self) -> None:
        pass


class DummyKeys:
    """The stub venue's key life: every key it is asked about is still active."""

    venue = "dummy"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def refresh(self, entry: Entry) -> dict[str, str]:
        self.asked.append(entry.key_ref)
        return {"status": "active", "last_used_at": "2026-12-01T00:00:00+00:00"}

    def rotate(self, store, entry, **options):
        raise DummyError("rotation is done on the Dummy website")

    def revoke(self, store, entry, **options):
        raise DummyError("revocation is done on the Dummy website")

    def options(self, entry, target, secret, wallet):
        return {}, []


KEYS = DummyKeys()  # the module named as the stub venue's setup module holds its KEYS


def check(*args, **kwargs):
    raise DummyError("Dummy has no setup steps")


sign = execute = check

DUMMY = registry.VenueSpec(
    "dummy", "Dummy Exchange", ("sandbox", "mainnet"), "login", "api_key",
    f"{__name__}:DummyClient", f"{__name__}:DummyError", setup_path=__name__,
)  # fmt: skip


@pytest.fixture
def dummy_venue():
    registry.register(DUMMY)
    try:
        yield DUMMY
    finally:
        registry.unregister("dummy")
    assert "dummy" not in registry.VENUES


def test_a_registered_venue_shows_in_the_wizard_the_key_panel_and_keys(dummy_venue, tmp_path):
    from toolkit import keystore
    from toolkit.keystore.store import KeyStore
    from toolkit.secrets import Secret, generate_password
    from toolkit.widgets import KeyPanel, SetupWizard

    wizard = SetupWizard(KeyStore.open(tmp_path / "w", generate_password(), use_keyring=False))
    assert ("Dummy Exchange", "dummy") in wizard.venue.options
    wizard.venue.value = "dummy"  # its networks follow, read from the registry
    assert wizard.network.options == ("sandbox", "mainnet")
    assert (
        setup._venue("dummy").KEYS is KEYS
        and lifecycle.adapter(
            Entry(venue="dummy", kind="api_key", network="mainnet", account="a", key_ref="k")
        )
        is KEYS
    )

    store = KeyStore.open(tmp_path / "ks", generate_password(), use_keyring=False)
    entry = store.put(Entry(
        venue="dummy", kind="api_key", network="mainnet", account="quant@example.com", key_ref="dk-1",
        public="dk-1", secrets={"api_secret": Secret("s3cr3t-dummy-value", "api_secret")},
    ))  # fmt: skip
    panel = KeyPanel(store, tick_seconds=None)
    assert [value for _, value in panel.key.options] == [entry.id]
    assert panel.key.options[0][0].startswith("Dummy Exchange api_key dk-1")
    assert "dk-1" in panel.table.value and "s3cr3t-dummy-value" not in panel.table.value

    KEYS.asked.clear()
    frame = keystore.keys(store, refresh=True)  # the venue's own lifecycle was asked about its key
    assert KEYS.asked == ["dk-1"]
    assert list(frame["venue"]) == ["dummy"] and list(frame["status"]) == ["active"]
    assert store.get(entry.id).last_used_at == "2026-12-01T00:00:00+00:00"
    panel.key.value = entry.id
    panel.rotate_button.click()  # the venue's refusal, in its words, in the panel
    assert "rotation is done on the Dummy website" in panel.status.value and not panel.error.value


def test_a_venue_name_is_registered_once():
    with pytest.raises(ValueError, match="a venue called 'aster' is already registered"):
        registry.register(registry.spec("aster"))
    with pytest.raises(ValueError, match="venue must be one of"):
        registry.unregister("dummy")
