"""The database backends: every test that asks for ``database_url``, or is marked ``both_backends``
(its sandbox fixtures follow ``backend``), runs on SQLite and on a real PostgreSQL server (one
throwaway server per test process, started on first use)."""

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


def pytest_generate_tests(metafunc):
    """A test marked ``both_backends`` runs twice: its sandbox on SQLite, then on PostgreSQL."""
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request) -> str:
    """The database the test's sandbox runs on: SQLite unless the test is marked ``both_backends``."""
    return getattr(request, "param", "sqlite")
