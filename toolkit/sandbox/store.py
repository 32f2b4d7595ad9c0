"""The sandbox's tables (SQLAlchemy Core) and the versioned schema they live in.

SQLite in WAL mode by default; any SQLAlchemy URL works (PostgreSQL for shared use).
Times are stored as integer milliseconds since the epoch (UTC), which both databases
keep exactly. Each later feature adds a numbered migration to ``MIGRATIONS``.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

metadata = sa.MetaData()

meta = sa.Table(
    "toolkit_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)

users = sa.Table(
    "px_users",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("plan", sa.String(16), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("trial_expires_at", sa.BigInteger, nullable=False),
    sa.Column("subscription_expires_at", sa.BigInteger, nullable=True),
    sa.Column("password_changed_at", sa.BigInteger, nullable=False),
)

api_keys = sa.Table(
    "px_api_keys",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("px_users.id"), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("key_prefix", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("last_used_at", sa.BigInteger, nullable=True),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
)

reset_tokens = sa.Table(
    "px_reset_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("px_users.id"), nullable=False, index=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("used_at", sa.BigInteger, nullable=True),
)

outbox = sa.Table(
    "sandbox_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("to_addr", sa.String(320), nullable=False, index=True),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("sent_at", sa.BigInteger, nullable=False),
)


ks_members = sa.Table(
    "ks_members",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("usage_level", sa.String(16), nullable=False),
    sa.Column("session_token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

ks_balances = sa.Table(
    "ks_balances",
    metadata,
    sa.Column("member_id", sa.String(36), sa.ForeignKey("ks_members.id"), primary_key=True),
    sa.Column("subaccount", sa.Integer, primary_key=True),
    sa.Column("balance_cents", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

ks_api_keys = sa.Table(
    "ks_api_keys",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("member_id", sa.String(36), sa.ForeignKey("ks_members.id"), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("public_key_pem", sa.Text, nullable=False),
    sa.Column("scopes", sa.String(255), nullable=False),  # space-separated
    sa.Column("subaccount", sa.Integer, nullable=True),
    sa.Column("generated", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

ks_seen_signatures = sa.Table(
    "ks_seen_signatures",
    metadata,
    sa.Column("signature_hash", sa.String(64), primary_key=True),
    sa.Column("seen_at", sa.BigInteger, nullable=False, index=True),
)


hl_accounts = sa.Table(
    "hl_accounts",
    metadata,
    sa.Column("user", sa.String(42), primary_key=True),
    sa.Column("deposited_micro_usdc", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

hl_agents = sa.Table(
    "hl_agents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user", sa.String(42), nullable=False, index=True),
    sa.Column("address", sa.String(42), nullable=False, unique=True),  # an address serves once, ever
    sa.Column("name", sa.String(64), nullable=False),  # "" for the unnamed agent
    sa.Column("valid_until", sa.BigInteger, nullable=True),
    sa.Column("approved_at", sa.BigInteger, nullable=False),
    sa.Column("removed_at", sa.BigInteger, nullable=True),
    sa.Column("removal", sa.String(16), nullable=True),  # replaced | removed
)

hl_nonces = sa.Table(
    "hl_nonces",
    metadata,
    sa.Column("signer", sa.String(42), primary_key=True),
    sa.Column("nonce", sa.BigInteger, primary_key=True),
)


as_accounts = sa.Table(
    "as_accounts",
    metadata,
    sa.Column("address", sa.String(42), primary_key=True),
    sa.Column("balance_micro_usdt", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

as_login_nonces = sa.Table(
    "as_login_nonces",
    metadata,
    sa.Column("address", sa.String(42), primary_key=True),
    sa.Column("type", sa.String(32), primary_key=True),
    sa.Column("nonce", sa.String(16), nullable=False),
    sa.Column("issued_at", sa.BigInteger, nullable=False),
)

as_api_keys = sa.Table(
    "as_api_keys",
    metadata,
    sa.Column("api_key", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.Integer, nullable=False, unique=True),
    sa.Column("address", sa.String(42), nullable=False, index=True),
    sa.Column("desc", sa.String(100), nullable=False),
    sa.Column("sealed_secret", sa.Text, nullable=False),  # vault-encrypted: the sandbox checks HMACs with it
    sa.Column("ip", sa.String(255), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("address", "desc"),
)

as_agents = sa.Table(
    "as_agents",
    metadata,
    sa.Column("address", sa.String(42), primary_key=True),
    sa.Column("user", sa.String(42), nullable=False, index=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("expired", sa.BigInteger, nullable=False),
    sa.Column("can_spot_trade", sa.Boolean, nullable=False),
    sa.Column("can_perp_trade", sa.Boolean, nullable=False),
    sa.Column("can_withdraw", sa.Boolean, nullable=False),
    sa.Column("ip_whitelist", sa.String(512), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("deleted_at", sa.BigInteger, nullable=True),
)

as_nonces = sa.Table(
    "as_nonces",
    metadata,
    sa.Column("user", sa.String(42), primary_key=True),
    sa.Column("nonce", sa.BigInteger, primary_key=True),
)


hd_tenants = sa.Table(
    "hd_tenants",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

hd_wallets = sa.Table(
    "hd_wallets",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False, index=True),
    sa.Column("user_id", sa.String(128), nullable=False),
    sa.Column("address", sa.String(42), nullable=False, unique=True),
    sa.Column("public_key", sa.String(130), nullable=False),
    sa.Column("share_a", sa.Text, nullable=False),  # one of two shares, sealed; the other lives elsewhere
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("tenant", "user_id"),
)

hd_credentials = sa.Table(
    "hd_credentials",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("wallet_id", sa.String(36), sa.ForeignKey("hd_wallets.id"), nullable=False, index=True),
    sa.Column("venue", sa.String(16), nullable=False),
    sa.Column("public", sa.String(255), nullable=False),
    sa.Column("sealed", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=True),
)

# The paper engine: one row for its clock, one row per account (balances, positions, resting orders,
# leverage and trade statistics as JSON), and its event tables. A change writes the rows it touched
# and its new events in one transaction, so a restart resumes exactly at the last commit: a funding
# hour is either in both or in neither, and pp_funding's primary key refuses a second payment for
# the same (account, coin, hour) outright.
pp_state = sa.Table(
    "pp_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("market_seed", sa.Integer, nullable=False),
    sa.Column("market_start", sa.BigInteger, nullable=False),
    sa.Column("now", sa.BigInteger, nullable=False),
    sa.Column("funded_hour", sa.Integer, nullable=False),
    sa.Column("next_oid", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

pp_accounts = sa.Table(
    "pp_accounts",
    metadata,
    sa.Column("account", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("owner", sa.String(100), nullable=False, unique=True),  # "venue:address or user id"
    sa.Column("state", sa.Text, nullable=False),
)

pp_fills = sa.Table(
    "pp_fills",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.Integer, nullable=False),
    sa.Column("time", sa.BigInteger, nullable=False),
    sa.Column("coin", sa.String(16), nullable=False),
    sa.Column("is_buy", sa.Boolean, nullable=False),
    sa.Column("px", sa.Float, nullable=False),
    sa.Column("sz", sa.Float, nullable=False),
    sa.Column("fee", sa.Float, nullable=False),
    sa.Column("closed_pnl", sa.Float, nullable=False),
    sa.Column("start_position", sa.Float, nullable=False),
    sa.Column("maker", sa.Boolean, nullable=False),
    sa.Column("oid", sa.BigInteger, nullable=False),
    sa.Column("cloid", sa.String(34), nullable=True),
    sa.Column("liquidation", sa.Boolean, nullable=False),
    sa.Column("builder_fee", sa.Float, nullable=False, server_default="0"),  # from v9
    sa.Index("ix_pp_fills_account_time", "account", "time"),
)

pp_funding = sa.Table(
    "pp_funding",
    metadata,
    sa.Column("account", sa.Integer, primary_key=True),
    sa.Column("coin", sa.String(16), primary_key=True),
    sa.Column("hour", sa.Integer, primary_key=True),
    sa.Column("time", sa.BigInteger, nullable=False),
    sa.Column("szi", sa.Float, nullable=False),
    sa.Column("rate", sa.Float, nullable=False),
    sa.Column("oracle_px", sa.Float, nullable=False),
    sa.Column("usdc", sa.Float, nullable=False),
    sa.Index("ix_pp_funding_account_time", "account", "time"),
)

pp_ledger = sa.Table(
    "pp_ledger",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.Integer, nullable=False),
    sa.Column("time", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("usdc", sa.Float, nullable=False),
    sa.Column("delta", sa.Text, nullable=False),  # Hyperliquid's JSON delta, as served
    sa.Index("ix_pp_ledger_account_time", "account", "time"),
)

pp_liquidations = sa.Table(
    "pp_liquidations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.Integer, nullable=False, index=True),
    sa.Column("time", sa.BigInteger, nullable=False),
    sa.Column("coin", sa.String(16), nullable=False),
    sa.Column("position_size", sa.Float, nullable=False),
    sa.Column("entry_price", sa.Float, nullable=False),
    sa.Column("liquidation_price", sa.Float, nullable=True),
    sa.Column("mark_price", sa.Float, nullable=False),
    sa.Column("account_value_before", sa.Float, nullable=False),
    sa.Column("maintenance_margin", sa.Float, nullable=False),
    sa.Column("realized_loss", sa.Float, nullable=False),
    sa.Column("leverage_type", sa.String(8), nullable=False),
)

# Every status an order passes through (open, filled, canceled, triggered, ...), the order as it was
# then in JSON: what orderStatus, historicalOrders and the order-update stream are read from.
pp_orders = sa.Table(
    "pp_orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.Integer, nullable=False),
    sa.Column("oid", sa.BigInteger, nullable=False),
    sa.Column("cloid", sa.String(34), nullable=True),
    sa.Column("time", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(40), nullable=False),
    sa.Column("order", sa.Text, nullable=False),
    sa.Index("ix_pp_orders_account_oid", "account", "oid"),
    sa.Index("ix_pp_orders_account_cloid", "account", "cloid"),
)

# Hyperliquid builder fees a user approved: the most each builder may charge, in tenths of a bp.
hl_builder_fees = sa.Table(
    "hl_builder_fees",
    metadata,
    sa.Column("user", sa.String(42), primary_key=True),
    sa.Column("builder", sa.String(42), primary_key=True),
    sa.Column("max_fee", sa.Integer, nullable=False),
    sa.Column("approved_at", sa.BigInteger, nullable=False),
)

px_checkouts = sa.Table(
    "px_checkouts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("px_users.id"), nullable=False, index=True),
    sa.Column("plan", sa.String(16), nullable=False),
    sa.Column("amount", sa.Numeric(10, 2), nullable=False),
    sa.Column("original_amount", sa.Numeric(10, 2), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("paid_at", sa.BigInteger, nullable=True),
    sa.Column("expired_at", sa.BigInteger, nullable=True),  # set when expired by hand before its time
    sa.Column("period_start", sa.BigInteger, nullable=True),
    sa.Column("period_end", sa.BigInteger, nullable=True),
)


# -- Lighter (v8): accounts by L1 address, API key slots with their nonces, read-only tokens,
# orders and positions (enough for the tier and maker-only rules), and accepted transactions.
lt_accounts = sa.Table(
    "lt_accounts",
    metadata,
    sa.Column("account_index", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("l1_address", sa.String(42), nullable=False, index=True),
    sa.Column("account_type", sa.Integer, nullable=False),  # 0 master, 1 sub-account
    sa.Column("collateral_micro", sa.BigInteger, nullable=False),
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("tier_changed_at", sa.BigInteger, nullable=True),
    sa.Column("trading_mode", sa.Integer, nullable=False),
    sa.Column("maker_only", sa.Text, nullable=False),  # JSON list of api key indexes
    sa.Column("maker_only_changed_at", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

lt_api_keys = sa.Table(
    "lt_api_keys",
    metadata,
    sa.Column("account_index", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("api_key_index", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("public_key", sa.String(80), nullable=False),  # 80 zeros: empty or revoked
    sa.Column("next_nonce", sa.BigInteger, nullable=False),
    sa.Column("transaction_time", sa.BigInteger, nullable=False),
)

lt_tokens = sa.Table(
    "lt_tokens",
    metadata,
    sa.Column("token_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_index", sa.BigInteger, nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("api_token", sa.String(200), nullable=False, unique=True),
    sa.Column("expiry", sa.BigInteger, nullable=False),
    sa.Column("sub_account_access", sa.Boolean, nullable=False),
    sa.Column("scopes", sa.String(100), nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

lt_orders = sa.Table(
    "lt_orders",
    metadata,
    sa.Column("order_index", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("account_index", sa.BigInteger, nullable=False, index=True),
    sa.Column("market_index", sa.Integer, nullable=False),
    sa.Column("client_order_index", sa.BigInteger, nullable=False),
    sa.Column("is_ask", sa.Boolean, nullable=False),
    sa.Column("base_amount", sa.BigInteger, nullable=False),
    sa.Column("price", sa.BigInteger, nullable=False),
    sa.Column("time_in_force", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("api_key_index", sa.Integer, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

lt_positions = sa.Table(
    "lt_positions",
    metadata,
    sa.Column("account_index", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("market_index", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("base_amount", sa.BigInteger, nullable=False),  # signed: long > 0, short < 0
)

lt_trade_orders = sa.Table(  # from v10: each Lighter order and the engine order that carries it
    "lt_trade_orders",
    metadata,
    sa.Column("order_index", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("account_index", sa.BigInteger, nullable=False),
    sa.Column("market_index", sa.Integer, nullable=False),
    sa.Column("client_order_index", sa.BigInteger, nullable=False),
    sa.Column("oid", sa.BigInteger, nullable=True),  # the engine's order now (a modify replaces it)
    sa.Column("api_key_index", sa.Integer, nullable=False),
    sa.Column("nonce", sa.BigInteger, nullable=False),
    sa.Column("order_type", sa.Integer, nullable=False),
    sa.Column("time_in_force", sa.Integer, nullable=False),
    sa.Column("is_ask", sa.Boolean, nullable=False),
    sa.Column("reduce_only", sa.Boolean, nullable=False),
    sa.Column("base_amount", sa.BigInteger, nullable=False),  # as first placed, in the market's units
    sa.Column("price", sa.BigInteger, nullable=False),
    sa.Column("trigger_price", sa.BigInteger, nullable=False),
    sa.Column("order_expiry", sa.BigInteger, nullable=False),
    sa.Column("refused", sa.String(40), nullable=True),  # the status of an order the engine refused
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Index("ix_lt_trade_orders_account", "account_index", "order_index"),
    sa.Index("ix_lt_trade_orders_oid", "oid"),
)

lt_txs = sa.Table(
    "lt_txs",
    metadata,
    sa.Column("tx_hash", sa.String(80), primary_key=True),
    sa.Column("tx_type", sa.Integer, nullable=False),
    sa.Column("account_index", sa.BigInteger, nullable=False),
    sa.Column("api_key_index", sa.Integer, nullable=False),
    sa.Column("nonce", sa.BigInteger, nullable=False),
    sa.Column("accepted_at", sa.BigInteger, nullable=False),
    sa.Index("ix_lt_txs_key", "account_index", "api_key_index", "nonce"),
)


def _v1(conn: Connection) -> None:
    for table in (users, api_keys, reset_tokens, outbox):
        table.create(conn, checkfirst=True)


def _v2(conn: Connection) -> None:
    """The RSA-keyed API (seed 002): members, balances, keys and seen signatures."""
    for table in (ks_members, ks_balances, ks_api_keys, ks_seen_signatures):
        table.create(conn, checkfirst=True)


def _v3(conn: Connection) -> None:
    """Hyperliquid accounts (made by a deposit), agents, and the nonces each signer has used."""
    for table in (hl_accounts, hl_agents, hl_nonces):
        table.create(conn, checkfirst=True)


def _v4(conn: Connection) -> None:
    """Aster: accounts, web3 login nonces, V1 keys, V3 agents and their nonces."""
    for table in (as_accounts, as_login_nonces, as_api_keys, as_agents, as_nonces):
        table.create(conn, checkfirst=True)


def _v5(conn: Connection) -> None:
    """HyperDEX: tenants, server wallets (one share each) and the venue credentials they hold."""
    for table in (hd_tenants, hd_wallets, hd_credentials):
        table.create(conn, checkfirst=True)


def _v6(conn: Connection) -> None:
    """The paper engine's state and its fills, funding payments, ledger updates and liquidations."""
    for table in (pp_state, pp_accounts, pp_fills, pp_funding, pp_ledger, pp_liquidations):
        table.create(conn, checkfirst=True)


def _v7(conn: Connection) -> None:
    """PaperExchange billing: checkout sessions and the periods they paid for."""
    px_checkouts.create(conn, checkfirst=True)


def _v8(conn: Connection) -> None:
    """Lighter: accounts, key slots and nonces, tokens, orders, positions, accepted txs."""
    for table in (lt_accounts, lt_api_keys, lt_tokens, lt_orders, lt_positions, lt_txs):
        table.create(conn, checkfirst=True)


def _v9(conn: Connection) -> None:
    """Order statuses, builder fees on fills, and the builder fees users approved."""
    for table in (pp_orders, hl_builder_fees):
        table.create(conn, checkfirst=True)
    columns = {c["name"] for c in sa.inspect(conn).get_columns("pp_fills")}
    if "builder_fee" not in columns:  # a v6 table: created before fills carried builder fees
        conn.execute(sa.text("ALTER TABLE pp_fills ADD COLUMN builder_fee FLOAT NOT NULL DEFAULT 0"))


def _v10(conn: Connection) -> None:
    """Lighter orders on the clearinghouse: each order's venue fields and its engine order."""
    lt_trade_orders.create(conn, checkfirst=True)


# Migration N brings the schema from version N-1 to N. Append, never edit.
MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10]
SCHEMA_VERSION = len(MIGRATIONS)

MAX_BALANCE_MICRO = 10**18  # one trillion dollars in millionths: far inside a 64-bit column


class BalanceCap(ValueError):
    """A deposit that would take a balance past ``MAX_BALANCE_MICRO``."""


def check_balance(micro: int) -> None:
    """Raise ``BalanceCap`` (inside the deposit's transaction, which then rolls back) past the cap."""
    if micro > MAX_BALANCE_MICRO:
        raise BalanceCap(f"a balance may hold at most {MAX_BALANCE_MICRO // 10**6}")


def create_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def schema_version(conn: Connection) -> int:
    if not sa.inspect(conn).has_table(meta.name):
        return 0
    row = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).first()
    return int(row[0]) if row else 0


def migrate(engine: Engine) -> int:
    """Create or upgrade the schema to ``SCHEMA_VERSION`` in one transaction; return the version."""
    with engine.begin() as conn:
        meta.create(conn, checkfirst=True)
        current = schema_version(conn)
        if current > SCHEMA_VERSION:
            raise RuntimeError(
                f"database schema is version {current}, newer than this toolkit ({SCHEMA_VERSION});"
                " upgrade the toolkit"
            )
        for step in MIGRATIONS[current:]:
            step(conn)
        if current == 0:
            conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        elif current < SCHEMA_VERSION:
            conn.execute(
                meta.update().where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION))
            )
    return SCHEMA_VERSION


def get_meta(conn: Connection, key: str) -> str | None:
    """One ``toolkit_meta`` value, or None, read on ``conn``."""
    return conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()


def put_meta(conn: Connection, key: str, value: str) -> None:
    """Insert or replace one ``toolkit_meta`` value on ``conn`` (in its transaction, if it has one)."""
    if conn.execute(meta.update().where(meta.c.key == key).values(value=value)).rowcount == 0:
        conn.execute(meta.insert().values(key=key, value=value))


def read_meta(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        return get_meta(conn, key)


def write_meta(engine: Engine, key: str, value: str) -> None:
    """Insert or replace one ``toolkit_meta`` value, in its own transaction."""
    with engine.begin() as conn:
        put_meta(conn, key, value)


def error_reason(exc: sa.exc.DBAPIError) -> str:
    """What a database error says, fit to show: its first line only (a DETAIL line below it may
    quote the row's values, secrets among them)."""
    return (str(exc.orig).splitlines() or ["a value the database cannot store"])[0]
