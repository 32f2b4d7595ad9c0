"""Copy a sandbox's database into another (``toolkit sandbox migrate``): a notebook's SQLite sandbox
into the PostgreSQL database a team or a class shares.

Every table is copied in one transaction on the target (all of it lands, or none), parents before
children, and each table's row count is checked against the source before it commits. Neither
database may be in use: both are locked as a sandbox locks its own, so a running sandbox on either
makes the copy refuse, naming it. The target must be empty. The home folder's keys (the JWT key,
the vault key, HyperDEX's key shares, the admin token) are files, not rows: the sandbox that serves
the copy uses the same home, or a copy of it.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from toolkit.sandbox import owner, store

BATCH = 5_000  # rows read and written at a time: a year of a class's fills stays in bounded memory


class MigrationError(Exception):
    """The copy was refused, or failed and left the target as it was."""


def _rows(table: sa.Table) -> sa.Select:
    """What is copied of ``table``: every row, but a crashed owner's record (ownership is not data)."""
    query = sa.select(table)
    return query.where(table.c.key != owner.OWNER_KEY) if table is store.meta else query


def _counts(conn: Connection) -> dict[str, int]:
    return {
        table.name: conn.execute(sa.select(sa.func.count()).select_from(_rows(table).subquery())).scalar_one()
        for table in store.metadata.sorted_tables
    }


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL: each serial key's sequence past the highest copied id (rows came with their ids,
    so the sequences never moved), or the next insert would reuse one."""
    if conn.dialect.name != "postgresql":
        return
    for table in store.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or keys[0].autoincrement is not True or not isinstance(keys[0].type, sa.Integer):
            continue
        column = keys[0]
        top = conn.execute(sa.select(sa.func.max(column))).scalar()
        sequence = sa.func.pg_get_serial_sequence(table.name, column.name)
        conn.execute(sa.select(sa.func.setval(sequence, top or 1, top is not None)))


def copy(
    source_url: str, target_url: str, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every table of the sandbox database at ``source_url`` into the empty one at
    ``target_url`` (its schema is created); return the rows copied per table. The source's schema is
    brought to this toolkit's version first, as starting a sandbox on it would."""
    locks = [owner.DatabaseLock(source_url), owner.DatabaseLock(target_url)]  # ValueError: not a URL
    if locks[0].url == locks[1].url:
        raise MigrationError("--from and --to name the same database")
    taken: list[owner.DatabaseLock] = []
    source = store.create_engine(source_url)
    target = store.create_engine(target_url)
    try:
        for lock in locks:
            try:
                lock.acquire()
            except owner.DatabaseBusy as exc:
                raise MigrationError(f"{exc}; the copy needs both databases to itself") from None
            taken.append(lock)
        store.migrate(source)
        store.migrate(target)
        with target.connect() as conn:
            held = {name: n for name, n in _counts(conn).items() if n and name != store.meta.name}
        if held:
            listed = ", ".join(f"{n} in {name}" for name, n in sorted(held.items()))
            raise MigrationError(f"the target database is not empty ({listed} rows); give an empty one")
        with source.connect() as src:
            expected = _counts(src)
            with target.begin() as dst:
                for table in store.metadata.sorted_tables:
                    _copy_table(src, dst, table, progress)
                _reset_sequences(dst)
                copied = _counts(dst)
                if copied != expected:
                    wrong = {name: (n, copied[name]) for name, n in expected.items() if copied[name] != n}
                    raise MigrationError(
                        f"row counts differ after the copy (source, target): {wrong}; nothing was kept"
                    )
        return expected
    except sa.exc.DBAPIError as exc:
        raise MigrationError(
            f"the copy failed and was rolled back (the target is as it was): {type(exc.orig).__name__}: "
            f"{store.error_reason(exc)}"
        ) from None
    finally:
        for lock in reversed(taken):
            lock.release()
        source.dispose()
        target.dispose()


def _copy_table(
    src: Connection, dst: Connection, table: sa.Table, progress: Callable[[str, int], None] | None
) -> None:
    if table is store.meta:  # the source's settings (schema version, clock, market) replace the new ones
        dst.execute(table.delete())
    rows = src.execution_options(yield_per=BATCH).execute(_rows(table).order_by(*table.primary_key.columns))
    done = 0
    for batch in rows.mappings().partitions(BATCH):
        dst.execute(table.insert(), [dict(row) for row in batch])
        done += len(batch)
        if progress is not None:
            progress(table.name, done)
