"""One sandbox serving a class, as the README's "Serving a class" section sets it up: `toolkit
sandbox --host 0.0.0.0` on a PostgreSQL database, reached from another address than loopback.
Students trade without any admin power; the instructor's laptop moves the clock with the admin
token; 50 students at once lose nothing and see no 5xx while the clock moves a day."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

import toolkit.sandbox
from toolkit.sandbox import SandboxError, store
from toolkit.sandbox.config import ADMIN_TOKEN_FILE
from toolkit.sandbox.process import spawn
from toolkit.secrets import generate_password
from toolkit.venues.paperx import PaperClient

pytestmark = [pytest.mark.moves_clock, pytest.mark.heavy]

STUDENTS = 50
ORDERS = 20
HOUR = 3_600_000
REFUSED = (
    "Sandbox admin routes are reachable from loopback only, or with the sandbox's admin token in the "
    "X-Sandbox-Admin-Token header"
)


def _lan_address() -> str:
    """An address of this machine that is not loopback: what a student's laptop would reach."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet leaves: this only picks the outgoing address
            address = probe.getsockname()[0]
        if not address.startswith("127."):
            return address
    except OSError:
        pass
    for address in socket.gethostbyname_ex(socket.gethostname())[2]:
        if not address.startswith("127."):
            return address
    pytest.fail("this machine has no address but loopback: the class test needs one network interface")


@pytest.fixture
def classroom(tmp_path, postgres):
    """The server: `toolkit sandbox --host 0.0.0.0` on PostgreSQL. Yields its URL as students reach
    it (the machine's network address), its home and its database."""
    home, database_url = tmp_path / "server-home", postgres.create_database("class")
    proc, local_url = spawn(home, host="0.0.0.0", database_url=database_url)
    try:
        yield local_url.replace("127.0.0.1", _lan_address()), home, database_url
    finally:
        proc.terminate()
        proc.wait(30)


def test_students_trade_but_only_the_instructor_moves_the_clock(classroom):
    url, home, _ = classroom
    with httpx.Client(base_url=url, timeout=60) as student:
        for method, path, body in (
            ("POST", "/sandbox/clock/advance", {"hours": 1}),
            ("GET", "/sandbox/outbox", None),
            ("POST", "/sandbox/hyperliquid/deposit", {"user": "0x" + "ab" * 20, "usdc": 1e6}),
        ):
            answer = student.request(method, path, json=body)
            assert (answer.status_code, answer.json()) == (403, {"detail": REFUSED})
        wrong = student.post(
            "/sandbox/clock/advance", json={"hours": 1}, headers={"X-Sandbox-Admin-Token": "guess"}
        )
        assert (wrong.status_code, wrong.json()) == (403, {"detail": REFUSED})
    with pytest.raises(SandboxError, match="403"):
        toolkit.sandbox.connect(url).advance(hours=1)

    token = (home / ADMIN_TOKEN_FILE).read_text().strip()  # what the instructor copies off the server
    instructor = toolkit.sandbox.connect(url, admin_token=token)
    before = instructor.now_ms()
    instructor.advance(hours=2)
    assert instructor.now_ms() - before >= 2 * HOUR
    assert token not in repr(instructor) and token not in str(vars(instructor))


def test_fifty_students_trade_while_the_clock_moves_a_day_and_nothing_is_lost(classroom):
    url, home, database_url = classroom
    instructor = toolkit.sandbox.connect(url, admin_token=(home / ADMIN_TOKEN_FILE).read_text().strip())
    start_ms = instructor.now_ms()
    ready = threading.Barrier(STUDENTS + 1)

    def student(i: int) -> dict:
        coin = ("BTC", "ETH", "SOL")[i % 3]
        size = {"BTC": 0.001, "ETH": 0.01, "SOL": 0.5}[coin]  # each over the $10 minimum
        try:
            with PaperClient(url) as web:
                web.register(f"student-{i}@class.example", generate_password())
                key = web.create_api_key("notebook")
            bot = PaperClient(url, api_key=key.api_key)
            opening = bot.order(coin, True, 3 * size)  # long from here on: it pays or earns every hour
        except BaseException:
            ready.abort()  # the others stop waiting; this student's error is the one reported
            raise
        with bot:
            ready.wait(600)
            # sizes 1, 2, 3 units, buying and selling in turn: the position stays between 2 and 6 units
            statuses = [opening] + [bot.order(coin, n % 2 == 0, size * (1 + n % 3)) for n in range(ORDERS)]
            return {
                "statuses": statuses,
                "overview": bot.overview(),
                "fills": bot.info({"type": "userFills"}),
            }

    with ThreadPoolExecutor(STUDENTS) as pool:
        futures = [pool.submit(student, i) for i in range(STUDENTS)]
        try:
            ready.wait(600)  # every student registered: the day moves while they trade
        except threading.BrokenBarrierError:
            errors = [f.exception(timeout=600) for f in futures]
            causes = [e for e in errors if e is not None and not isinstance(e, threading.BrokenBarrierError)]
            if causes:
                raise causes[0] from None  # the student's own error, not the barrier it broke
            raise
        instructor.advance(hours=24)
        results = [f.result(timeout=600) for f in futures]  # any 4xx or 5xx raised in its thread

    assert instructor.now_ms() - start_ms >= 24 * HOUR
    for r in results:
        assert all("filled" in s for s in r["statuses"]), r["statuses"]
        assert len(r["fills"]) == ORDERS + 1
        traded = sum(float(f["px"]) * float(f["sz"]) for f in r["fills"])
        assert r["overview"]["stats"]["total_volume"] == pytest.approx(traded, rel=1e-9)
    # and in the database: every fill of every student, and funding paid once per hour per position
    engine = store.create_engine(database_url)
    try:
        with engine.connect() as conn:
            fills = conn.execute(sa.select(sa.func.count()).select_from(store.pp_fills)).scalar_one()
            hours = conn.execute(
                sa.select(
                    store.pp_funding.c.account, store.pp_funding.c.coin, store.pp_funding.c.hour
                ).order_by(store.pp_funding.c.account, store.pp_funding.c.coin, store.pp_funding.c.hour)
            ).all()
    finally:
        engine.dispose()
    assert fills == STUDENTS * (ORDERS + 1)
    paid: dict[tuple[int, str], list[int]] = {}
    for account, coin, hour in hours:
        paid.setdefault((account, coin), []).append(hour)
    assert len(paid) == STUDENTS  # one position each, open all day
    for run in paid.values():  # every hour of the day paid, none twice, none skipped
        assert len(run) >= 24 and run == list(range(run[0], run[0] + len(run)))


def test_the_admin_token_stays_out_of_the_log_and_the_handle(tmp_path):
    home = tmp_path / "embedded"
    with toolkit.sandbox.start(home=home, host="0.0.0.0") as sb:
        token = (home / ADMIN_TOKEN_FILE).read_text().strip()
        url = sb.url.replace("0.0.0.0", _lan_address())
        instructor = toolkit.sandbox.connect(url, admin_token=token)
        instructor.advance(hours=1)
        with pytest.raises(SandboxError, match="403"):
            toolkit.sandbox.connect(url, admin_token=token[:-1] + ("A" if token[-1] != "A" else "B")).now()
        shown = repr(instructor) + str(vars(instructor))
    assert token not in shown and "admin_token=****" in shown
    assert token not in (home / "sandbox.log").read_text()
    assert oct((home / ADMIN_TOKEN_FILE).stat().st_mode & 0o777) == "0o600"
