"""The database backends: every test that asks for ``database_url`` runs on SQLite and on a real
PostgreSQL server (one throwaway server per test process, started on first use)."""

from __future__ import annotations

import pytest

from tests.postgres import BACKENDS, PostgresServer


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of this test process's own (Debian's, installed when missing)."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """A fresh, empty database on each backend: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sandbox.db'}"
    return request.getfixturevalue("postgres").create_database()
