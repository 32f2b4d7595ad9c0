"""The schema on both backends: SQLite and a real PostgreSQL server (``database_url``)."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from toolkit.sandbox import store


def test_fresh_database_gets_the_current_schema_version(database_url):
    engine = store.create_engine(database_url)
    assert store.migrate(engine) == store.SCHEMA_VERSION
    with engine.connect() as conn:
        assert store.schema_version(conn) == store.SCHEMA_VERSION
        tables = set(sa.inspect(conn).get_table_names())
    assert set(store.metadata.tables) == tables  # every table, and nothing else
    engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = store.create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_migrate_is_idempotent_and_keeps_data(database_url):
    engine = store.create_engine(database_url)
    store.migrate(engine)
    with engine.begin() as conn:
        conn.execute(store.outbox.insert().values(to_addr="a@b.co", subject="s", body="b", sent_at=1))
    store.migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.outbox)).scalar() == 1
    engine.dispose()


def test_a_newer_schema_is_refused(database_url):
    engine = store.create_engine(database_url)
    store.migrate(engine)
    with engine.begin() as conn:
        conn.execute(store.meta.update().values(value=str(store.SCHEMA_VERSION + 1)))
    with pytest.raises(RuntimeError, match=f"version {store.SCHEMA_VERSION + 1}, newer than this toolkit"):
        store.migrate(engine)
    engine.dispose()


def test_values_come_back_exactly_on_both_backends(database_url):
    """Nonces and times past 32 bits, Lighter's 48-bit account indexes, doubles bit for bit and money
    as exact decimals: what SQLite stores loosely, PostgreSQL types strictly."""
    engine = store.create_engine(database_url)
    store.migrate(engine)
    nonce, account_index = 2**62 + 12345, 2**48 - 2
    price = 0.1 + 0.2  # 0.30000000000000004: a double survives the round trip bit for bit
    with engine.begin() as conn:
        conn.execute(store.hl_nonces.insert().values(signer="0x" + "ab" * 20, nonce=nonce))
        conn.execute(store.lt_accounts.insert().values(
            account_index=account_index, l1_address="0x" + "cd" * 20, account_type=0,
            collateral_micro=store.MAX_BALANCE_MICRO, tier="standard", trading_mode=0, maker_only="[]",
            created_at=nonce,
        ))  # fmt: skip
        conn.execute(store.pp_fills.insert().values(
            account=0, time=nonce, coin="BTC", is_buy=True, px=price, sz=1e-9, fee=-1e300, closed_pnl=0.0,
            start_position=0.0, maker=False, oid=nonce, liquidation=False,
        ))  # fmt: skip
    with engine.connect() as conn:
        assert conn.execute(sa.select(store.hl_nonces.c.nonce)).scalar() == nonce
        row = conn.execute(sa.select(store.lt_accounts)).one()
        assert (row.account_index, row.collateral_micro) == (account_index, store.MAX_BALANCE_MICRO)
        fill = conn.execute(sa.select(store.pp_fills)).one()
        assert (fill.px, fill.sz, fill.fee, fill.oid, fill.time) == (price, 1e-9, -1e300, nonce, nonce)
        assert fill.is_buy is True and fill.liquidation is False
    engine.dispose()


def test_a_second_funding_payment_for_one_hour_is_refused_by_the_database(database_url):
    """Funding is exactly-once by the table's own key: (account, coin, hour) pays once."""
    engine = store.create_engine(database_url)
    store.migrate(engine)
    row = {"account": 0, "coin": "BTC", "hour": 500_000, "time": 1, "szi": 1.0, "rate": 1e-5,
           "oracle_px": 1e5, "usdc": -1.0}  # fmt: skip
    with engine.begin() as conn:
        conn.execute(store.pp_funding.insert().values(**row))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(store.pp_funding.insert().values(**row | {"usdc": -2.0}))
    with engine.connect() as conn:
        assert conn.execute(sa.select(store.pp_funding.c.usdc)).scalars().all() == [-1.0]
    engine.dispose()


def test_money_in_billing_is_an_exact_decimal(database_url):
    engine = store.create_engine(database_url)
    store.migrate(engine)
    with engine.connect() as conn:
        value = conn.execute(
            sa.select(sa.cast(sa.literal("19.99"), store.px_checkouts.c.amount.type))
        ).scalar()
    assert value == Decimal("19.99")
    engine.dispose()
