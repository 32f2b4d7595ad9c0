"""One resolver for every client's target: a network's name, a sandbox handle, or a base URL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from toolkit.venues.aster import AsterClient
from toolkit.venues.hyperliquid import HyperliquidClient
from toolkit.venues.kalshi import KalshiClient
from toolkit.venues.lighter import LighterClient
from toolkit.venues.paperx import PaperClient
from toolkit.venues.target import Resolved, resolve

NETWORKS = {"mainnet": "https://api.example.com/", "testnet": "https://test.example.com"}


@dataclass
class Handle:
    url: str


def test_a_name_a_handle_and_a_url():
    assert resolve("testnet", NETWORKS, "C") == Resolved("https://test.example.com", "testnet")
    assert resolve(Handle("http://127.0.0.1:8765/"), NETWORKS, "C", handle_path="/api") == Resolved(
        "http://127.0.0.1:8765/api", "sandbox"
    )
    assert resolve("https://api.example.com", NETWORKS, "C") == Resolved("https://api.example.com", "mainnet")
    assert resolve("http://localhost:9/", NETWORKS, "C") == Resolved("http://localhost:9", "sandbox")


@pytest.mark.parametrize("bad", ["devnet", "", "ftp://x", None, 42, Handle("not a url")])
def test_anything_else_says_what_a_client_takes(bad):
    with pytest.raises(ValueError, match=r"^C needs 'mainnet', 'testnet', a sandbox handle or a base URL$"):
        resolve(bad, NETWORKS, "C")


@pytest.mark.parametrize(
    ("client", "network"),
    [(HyperliquidClient, "testnet"), (AsterClient, "testnet"), (LighterClient, "testnet"),
     (KalshiClient, "demo"), (PaperClient, "mainnet")],
)  # fmt: skip
def test_every_client_takes_its_networks_and_a_handle(client, network):
    with client(network) as named, client(Handle("http://127.0.0.1:9")) as local:
        assert named.base_url.startswith("https://")
        assert local.base_url.startswith("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="a sandbox handle or a base URL"):
        client("nowhere")
