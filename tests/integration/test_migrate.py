"""`toolkit sandbox migrate`: a notebook's SQLite sandbox copied into PostgreSQL serves the same
accounts, to the digit, and carries on; the copy refuses a busy or non-empty database and, when a
row cannot be stored, leaves the target as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

import toolkit.sandbox
from toolkit.sandbox import owner, store
from toolkit.secrets import generate_password
from toolkit.venues import hyperliquid as hl
from toolkit.venues.eip712 import Wallet
from toolkit.venues.paperx import PaperClient

REPLAY = Path(__file__).resolve().parents[2] / "notebooks" / "data" / "hyperliquid-replay-sample"

pytestmark = pytest.mark.moves_clock


def _migrate(source: str, target: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "toolkit", "sandbox", "migrate", "--from", source, "--to", target],
        capture_output=True, text=True, timeout=300, env=os.environ,
    )  # fmt: skip


def _snapshot(sb, bot: PaperClient, wallet: Wallet) -> dict:
    with hl.HyperliquidClient(sb, wallet=wallet) as client:
        user = wallet.address
        return {
            "overview": bot.overview(),
            "funding": bot.funding(limit=500),
            "fills": bot.info({"type": "userFills"}),
            "hyperliquid": client.info({"type": "clearinghouseState", "user": user}),
            "hyperliquid_fills": client.info({"type": "userFills", "user": user}),
            "now_ms": sb.now_ms(),
        }


def _counts(url: str) -> dict[str, int]:
    engine = store.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in store.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def test_a_notebook_sandbox_copied_into_postgresql_serves_the_same_accounts(tmp_path, postgres):
    home, wallet = tmp_path / "home", Wallet.generate()
    email, password = "student@example.com", generate_password()
    # a notebook's run: a replay (its clock stands still between advances, so figures repeat exactly)
    with toolkit.sandbox.start(home=home, market=REPLAY) as sb:
        with PaperClient(sb) as web:
            web.register(email, password)
            key = web.create_api_key("bot")
            web.forgot_password(email)  # a mail in the outbox: a table with a serial key
        bot = PaperClient(sb, api_key=key.api_key)
        assert "filled" in bot.order("BTC", True, 0.05)
        assert "resting" in bot.order("ETH", True, 0.5, 1000)
        sb.deposit("hyperliquid", wallet.address, 5_000)
        with hl.HyperliquidClient(sb, wallet=wallet) as client:
            client.order([hl.order_wire(2, False, "1", "10", tif="Ioc")])
        sb.advance(hours=6)
        before = _snapshot(sb, bot, wallet)
        bot.close()
    assert len(before["funding"]["funding_payments"]) == 6 and before["overview"]["positions_count"] == 1
    source = f"sqlite:///{home / 'sandbox.db'}"
    target = postgres.create_database("classroom")

    done = _migrate(source, target)
    assert done.returncode == 0, done.stderr
    counts = _counts(source)
    assert _counts(target) == counts
    assert "  pp_fills  " in done.stdout.replace(" " * 3, "  ")
    assert f"{sum(counts.values()):,} rows in {len(counts)} tables copied; every table's count checked" in (
        done.stdout
    )

    with toolkit.sandbox.start(home=home, market=REPLAY, database_url=target) as sb:
        bot = PaperClient(sb, api_key=key.api_key)
        assert _snapshot(sb, bot, wallet) == before
        # and it carries on: new rows take fresh ids after the copied ones
        with PaperClient(sb) as web:
            web.login(email, password)
            web.forgot_password(email)
            mails = web.outbox(email)
        assert [m.id for m in mails] == [2, 1]
        assert "filled" in bot.order("SOL", True, 1)
        sb.advance(hours=1)
        assert len(bot.funding("BTC", limit=500)["funding_payments"]) == 7
        assert len(bot.funding("SOL", limit=500)["funding_payments"]) == 1
        bot.close()


def test_the_copy_refuses_a_busy_a_non_empty_or_the_same_database(tmp_path, postgres):
    source = f"sqlite:///{tmp_path / 'notebook.db'}"
    with toolkit.sandbox.start(home=tmp_path / "home", database_url=source) as sb:
        sb.deposit("hyperliquid", Wallet.generate().address, 100)
        target = postgres.create_database("classroom")
        busy = _migrate(source, target)
        assert busy.returncode == 1
        assert f"is owned by the sandbox at {sb.url} (pid {os.getpid()} on" in busy.stderr
        assert "the copy needs both databases to itself" in busy.stderr
    assert _migrate(source, target).returncode == 0
    again = _migrate(source, target)
    assert again.returncode == 1
    assert "the target database is not empty (1 in hl_accounts, " in again.stderr
    assert "give an empty one" in again.stderr
    same = _migrate(source, source)
    assert same.returncode == 1 and "--from and --to name the same database" in same.stderr
    garbled = _migrate("::not a url:s3cret", target)
    assert (
        garbled.returncode == 1 and "the database URL does not parse as an SQLAlchemy URL" in garbled.stderr
    )
    assert "s3cret" not in garbled.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "toolkit", "sandbox", "migrate", "--from", source],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert missing.returncode == 2 and "give both --from URL and --to URL" in missing.stderr


def test_a_row_postgresql_cannot_store_rolls_the_whole_copy_back(tmp_path, postgres):
    source = f"sqlite:///{tmp_path / 'notebook.db'}"
    engine = store.create_engine(source)
    store.migrate(engine)
    with engine.begin() as conn:  # SQLite keeps what PostgreSQL refuses: a NUL inside a text value
        conn.execute(store.outbox.insert().values(to_addr="a@b.co", subject="s", body="x\x00y", sent_at=1))
        conn.execute(store.hl_nonces.insert().values(signer="0x" + "ab" * 20, nonce=1))
    engine.dispose()
    target = postgres.create_database("classroom")
    failed = _migrate(source, target)
    assert failed.returncode == 1
    assert "the copy failed and was rolled back (the target is as it was): DataError: " in failed.stderr
    assert "NUL" in failed.stderr
    counts = _counts(target)
    assert sum(counts.values()) == counts["toolkit_meta"] == 1  # its own schema version, nothing copied
    assert owner.shown(target) in failed.stdout
