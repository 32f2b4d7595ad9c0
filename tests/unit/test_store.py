import sqlalchemy as sa

from toolkit.sandbox import store


def test_fresh_database_gets_the_current_schema_version(tmp_path):
    engine = store.create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    assert store.migrate(engine) == store.SCHEMA_VERSION
    with engine.connect() as conn:
        assert store.schema_version(conn) == store.SCHEMA_VERSION
        tables = set(sa.inspect(conn).get_table_names())
    assert {"toolkit_meta", "px_users", "px_api_keys", "px_reset_tokens", "sandbox_outbox"} <= tables
    assert {"ks_members", "ks_balances", "ks_api_keys", "ks_seen_signatures"} <= tables
    assert {"hl_agents", "hl_nonces"} <= tables
    assert {"as_accounts", "as_api_keys", "as_agents", "as_nonces"} <= tables
    assert {"hd_tenants", "hd_wallets", "hd_credentials"} <= tables


def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = store.create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_migrate_is_idempotent_and_keeps_data(tmp_path):
    engine = store.create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    store.migrate(engine)
    with engine.begin() as conn:
        conn.execute(store.outbox.insert().values(to_addr="a@b.co", subject="s", body="b", sent_at=1))
    store.migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.outbox)).scalar() == 1


def test_a_newer_schema_is_refused(tmp_path):
    engine = store.create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    store.migrate(engine)
    with engine.begin() as conn:
        conn.execute(store.meta.update().values(value=str(store.SCHEMA_VERSION + 1)))
    try:
        store.migrate(engine)
    except RuntimeError as exc:
        assert "newer than this toolkit" in str(exc)
    else:
        raise AssertionError("a newer schema must be refused")
