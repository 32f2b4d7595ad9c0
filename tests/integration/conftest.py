"""A real sandbox over loopback for every integration test, and fresh users on it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from eth_account import Account as EthAccount
from hyperliquid.info import Info

import toolkit.sandbox
from toolkit.sandbox import store
from toolkit.secrets import Secret, generate_password
from toolkit.venues.paperx import PaperClient, Session


def _database(request, backend: str) -> str | None:
    """None: the home's own SQLite file; else a fresh PostgreSQL database."""
    return None if backend == "sqlite" else request.getfixturevalue("postgres").create_database()


@pytest.fixture(scope="session")
def shared_sandbox(tmp_path_factory):
    """One sandbox for the tests that leave its clock alone (each test makes its own users)."""
    with toolkit.sandbox.start(home=tmp_path_factory.mktemp("sandbox-home")) as sb:
        yield sb


@pytest.fixture(scope="session")
def shared_postgres_sandbox(tmp_path_factory, postgres):
    """The shared sandbox's twin on PostgreSQL, for the tests marked ``both_backends``."""
    home = tmp_path_factory.mktemp("postgres-sandbox-home")
    with toolkit.sandbox.start(home=home, database_url=postgres.create_database()) as sb:
        yield sb


def _offset_ms(sb) -> int:
    return sb._server.config.app.state.sandbox.clock._offset_ms


def database_of(sb) -> sa.Engine:
    """An engine on the database behind an embedded sandbox (SQLite or PostgreSQL): for tests that
    check what is stored. The caller disposes of it."""
    return store.create_engine(sb._server.config.app.state.sandbox.config.database_url)


@pytest.fixture
def sandbox(request, backend, tmp_path):
    """The shared sandbox (on the test's backend); a test marked ``moves_clock`` gets one of its own
    instead (and every fixture built on this one follows it), so no test sees another's time
    travel. A test that moves the shared clock without the mark fails, naming the mark."""
    if request.node.get_closest_marker("moves_clock"):
        home = tmp_path / "own-clock-home"
        with toolkit.sandbox.start(
            home=home, database_url=_database(request, backend), log_level="warning"
        ) as sb:
            yield sb
        return
    shared = request.getfixturevalue("shared_sandbox" if backend == "sqlite" else "shared_postgres_sandbox")
    before = _offset_ms(shared)
    yield shared
    moved = _offset_ms(shared) - before
    if moved:
        pytest.fail(
            f"{request.node.name} moved the shared sandbox's clock by {moved / 3.6e6:.3g} h: mark it "
            "@pytest.mark.moves_clock so it runs on a sandbox of its own",
            pytrace=False,
        )


@pytest.fixture
def http(sandbox):
    with httpx.Client(base_url=sandbox.url, timeout=30) as client:
        yield client


def unique_email() -> str:
    return f"quant-{uuid.uuid4().hex[:12]}@example.com"


@dataclass
class Account:
    client: PaperClient
    email: str
    password: Secret
    session: Session

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.session.access_token.reveal()}"}


@pytest.fixture
def new_account(sandbox):
    made: list[PaperClient] = []

    def make(plan: str = "basic") -> Account:
        client = PaperClient(sandbox)
        made.append(client)
        email, password = unique_email(), generate_password()
        session = client.register(email, password, plan=plan)
        return Account(client, email, password, session)

    yield make
    for client in made:
        client.close()


@pytest.fixture
def account(new_account) -> Account:
    return new_account()


@pytest.fixture
def master(sandbox):
    """A Hyperliquid account (an address that deposited 10,000 USDC) and its key."""
    account = EthAccount.create()
    sandbox.deposit("hyperliquid", account.address, 10_000)
    return account


@pytest.fixture
def info(sandbox):
    """The official SDK's Info on the sandbox, without its websocket."""
    return Info(sandbox.url, skip_ws=True)


@pytest.fixture
def own_sandbox(request, backend, tmp_path):
    """A sandbox of this test's own (on the test's backend): for injected faults and moved clocks
    that must not reach others."""
    with toolkit.sandbox.start(home=tmp_path / "home", database_url=_database(request, backend)) as sb:
        yield sb


@pytest.fixture
def own_state(own_sandbox):
    """The in-process state behind ``own_sandbox`` (its clearinghouse, venues), for fault injection."""
    return own_sandbox._server.config.app.state.sandbox
