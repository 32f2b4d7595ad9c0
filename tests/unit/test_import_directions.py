"""Arrows run one way: the layers below never import the layers above them, directly or through
another module. A failure names the chain of imports that crosses."""

from __future__ import annotations

import grimp
import pytest

GRAPH = grimp.build_graph("toolkit")
SANDBOX_OUTSIDE_ENGINE = sorted(
    m for m in GRAPH.find_children("toolkit.sandbox") if m != "toolkit.sandbox.engine"
)
RULES = [
    # the paper engine is pure: numbers in, numbers out, nothing of the server around it
    ("toolkit.sandbox.engine", SANDBOX_OUTSIDE_ENGINE),
    # the venues' wire formats and clients are what everything else builds on
    ("toolkit.venues", ["toolkit.sandbox", "toolkit.widgets", "toolkit.frames", "toolkit.keystore"]),
    # the key store works with or without a sandbox, and never draws
    ("toolkit.keystore", ["toolkit.sandbox", "toolkit.widgets"]),
    # the frames are data: the widgets read them, never the other way
    ("toolkit.frames", ["toolkit.widgets"]),
    # the widgets are handed a sandbox; they never start (or import) the server
    ("toolkit.widgets", ["toolkit.sandbox"]),
]


@pytest.mark.parametrize(
    ("importer", "imported"),
    [(importer, imported) for importer, forbidden in RULES for imported in forbidden],
)
def test_no_import_runs_against_the_layers(importer, imported):
    chain = GRAPH.find_shortest_chain(importer=importer, imported=imported, as_packages=True)
    assert chain is None, f"{importer} must not import {imported}: " + " -> ".join(chain or ())


def test_the_rules_see_the_packages_they_name():
    """A renamed package would make its rule pass for nothing."""
    modules = GRAPH.modules
    for importer, forbidden in RULES:
        for name in (importer, *forbidden):
            assert name in modules, name
    assert len(SANDBOX_OUTSIDE_ENGINE) > 10


def test_the_venue_modules_hold_no_server_policy():
    """PaperExchange's plans, prices, lifetimes, key hashing and mail words are the sandbox's."""
    import toolkit.venues.paperx as px

    for name in ("PLANS", "PRICES", "TRIAL_DAYS", "JWT_LIFETIME_HOURS", "api_key_hash", "reset_mail_body"):
        assert not hasattr(px, name), name
