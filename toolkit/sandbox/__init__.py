"""The embedded sandbox: every venue's wire protocol on 127.0.0.1, for offline work and tests.

``start()`` serves it from a background thread (uvicorn with its own event loop, so both
synchronous and ``await``-ed clients work from a notebook) and returns a handle::

    with toolkit.sandbox.start() as sb:
        client = toolkit.PaperClient(sb)

The ``toolkit sandbox`` command runs the same app standalone.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from toolkit.sandbox import logfile, owner
from toolkit.sandbox.config import ADMIN_TOKEN_HEADER
from toolkit.secrets import Secret
from toolkit.times import to_ms

__all__ = ["Sandbox", "SandboxError", "connect", "start"]

MAX_ADVANCE_SECONDS = 366 * 24 * 3600  # the most one clock request may move
MAX_CHUNKED_SECONDS = 10 * MAX_ADVANCE_SECONDS  # the handle moves up to ten years, a year per request


class SandboxError(RuntimeError):
    """The sandbox could not start, or answered an admin call with an error."""


@dataclass(frozen=True)
class KalshiMember:
    """A Kalshi member on the sandbox; the session token stands in for a website login."""

    member_id: str
    email: str
    usage_level: str
    session_token: Any  # toolkit.secrets.Secret


class Sandbox:
    """A running sandbox: its ``url``, ``home`` and the admin calls a notebook needs.

    Handles from ``start()`` own their server and ``stop()`` ends it; a handle attached to a
    sandbox already running elsewhere (``TOOLKIT_SANDBOX_URL``, ``connect()``) leaves that one
    running.
    """

    def __init__(
        self,
        url: str,
        home: Path | None,
        server: Any = None,
        thread: threading.Thread | None = None,
        lock: Any = None,
        admin_token: Secret | None = None,
    ) -> None:
        self.url = url
        self.home = home
        self._admin_token = admin_token  # for the admin calls of a sandbox on another machine
        self._server = server
        self._thread = thread
        self._lock = lock  # owner.Ownership of an embedded sandbox, released by stop()
        self._embedded = server is not None

    @property
    def owned(self) -> bool:
        """Whether this handle started the server it talks to (``stop()`` ends only those)."""
        return self._embedded

    @property
    def running(self) -> bool:
        """Whether the sandbox answers (an embedded one: whether its server thread is alive)."""
        if self._thread is not None:
            return self._thread.is_alive()
        return owner.answers(self.url)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        kind = "embedded" if self.owned else "attached"
        return f"Sandbox({self.url!r}, {kind}, {state})"

    def _admin(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._admin_token is not None:
            kwargs["headers"] = {ADMIN_TOKEN_HEADER: self._admin_token.reveal()}
        response = httpx.request(method, f"{self.url}/sandbox{path}", timeout=30, **kwargs)
        if not response.is_success:
            raise SandboxError(f"{response.status_code}: {response.text}")
        return response.json()

    def status(self) -> dict[str, Any]:
        """The sandbox's version, schema version, clock, and how far the paper engine has caught up."""
        return self._admin("GET", "/status")

    def now(self) -> str:
        """Simulated time now (ISO 8601, UTC)."""
        return self._admin("GET", "/clock")["now"]

    def now_ms(self) -> int:
        """Simulated time now, in milliseconds since the epoch."""
        return self._admin("GET", "/clock")["now_ms"]

    def advance(self, *, hours: float = 0, minutes: float = 0, seconds: float = 0) -> str:
        """Move simulated time forward and wait until every hour on the way is processed (a year at
        a time, as the sandbox allows per call); returns the new time."""
        total = (hours * 60 + minutes) * 60 + seconds
        if total < 0:
            raise ValueError("the clock only moves forward")
        while True:
            step = min(total, MAX_ADVANCE_SECONDS) if total <= MAX_CHUNKED_SECONDS else total
            state = self._admin("POST", "/clock/advance", json={"seconds": step})
            self._follow(state)
            total -= step
            if total <= 0:
                return state["now"]

    def clock_state(self) -> dict[str, Any]:
        """The clock and how far the paper venues have processed it (``engine_now_ms``, ``caught_up``)."""
        return self._admin("GET", "/clock")

    def _follow(self, state: dict[str, Any]) -> None:
        """Wait until a long advance is processed (each call waits up to 20 s on the sandbox)."""
        while not state["caught_up"]:
            state = self._admin("POST", "/clock/wait", json={})

    def advance_to(self, when: datetime | str | int) -> str:
        """Move simulated time forward to ``when``: a datetime (naive means UTC), ISO 8601 text, a
        pandas or numpy time, or ms since the epoch.

        Every funding hour, resting fill and liquidation check on the way is processed; returns the
        new time."""
        when = to_ms(when, "when")
        now = self.now_ms()
        chunked = int(when) - now <= MAX_CHUNKED_SECONDS * 1000  # further: the sandbox's refusal
        while chunked and now + MAX_ADVANCE_SECONDS * 1000 < int(when):  # a year at a time
            step = self._admin("POST", "/clock/advance-to", json={"now_ms": now + MAX_ADVANCE_SECONDS * 1000})
            self._follow(step)
            now = step["now_ms"]
        state = self._admin("POST", "/clock/advance-to", json={"now_ms": int(when)})
        self._follow(state)
        return state["now"]

    def _advance_in_process(self, when_ms: int) -> None:
        """Move an embedded sandbox's clock to ``when_ms`` and wait for every hour on the way, in
        this process, without an HTTP call: a backtest's step (the admin route is for everyone
        else)."""
        if self._server is None:
            raise SandboxError("only a sandbox this handle started can be advanced in process")
        state = self._server.config.app.state.sandbox
        if when_ms > state.clock.now_ms():
            state.clock.advance_to(when_ms)
            state.clearinghouse.wake()
        state.clearinghouse.until(when_ms).result()

    def _transport(self) -> Any:
        """An httpx transport into this embedded sandbox's app, for a client in this process."""
        from toolkit.sandbox.inprocess import InProcessTransport

        if self._server is None:
            raise SandboxError("only a sandbox this handle started is reachable in process")
        return InProcessTransport(self._server.config.app)

    def outbox(self, email: str | None = None) -> list[Any]:
        """Mail the sandbox sent (newest first), with reset tokens masked as Secrets."""
        from toolkit.venues.paperx import PaperClient

        with PaperClient(self.url) as client:
            return client.outbox(email)

    def kalshi_member(
        self, email: str | None = None, usage_level: str = "basic", balance_cents: int = 1_000_000
    ) -> Any:
        """Open a member on the RSA-keyed API (what its website's sign-up would do).

        Returns the member with its session token (a Secret), which can create the first keys.
        """
        import uuid

        from toolkit.secrets import Secret

        email = email or f"member-{uuid.uuid4().hex[:10]}@example.com"
        body = {"email": email, "usage_level": usage_level, "balance_cents": balance_cents}
        data = self._admin("POST", "/kalshi/members", json=body)
        return KalshiMember(
            data["member_id"],
            data["email"],
            data["usage_level"],
            Secret(data["session_token"], "session_token"),
        )

    def set_kalshi_usage_level(self, member_id: str, usage_level: str) -> None:
        """Set a Kalshi member's usage level (``basic`` to ``prestige``), as the venue would."""
        self._admin("POST", f"/kalshi/members/{member_id}/usage_level", json={"usage_level": usage_level})

    def set_kalshi_balance(self, member_id: str, balance_cents: int, subaccount: int = 0) -> None:
        """Set a Kalshi member's balance, in cents, on a subaccount."""
        body = {"subaccount": subaccount, "balance_cents": balance_cents}
        self._admin("POST", f"/kalshi/members/{member_id}/balance", json=body)

    def confirm_checkout(self, session_id: str) -> dict[str, Any]:
        """Pay a PaperExchange checkout session, as the payment provider would; returns its status."""
        return self._admin("POST", f"/checkout/{session_id}/confirm")

    def expire_checkout(self, session_id: str) -> dict[str, Any]:
        """Abandon a PaperExchange checkout session unpaid."""
        return self._admin("POST", f"/checkout/{session_id}/expire")

    def deposit(self, venue: str, address: str, amount: float = 10_000.0) -> Any:
        """Credit ``amount`` to ``address`` on a wallet venue, as a bridge deposit would (USDC on
        Hyperliquid and Lighter, USDT on Aster), creating the account on the first deposit.

        Returns what the venue answers: the total deposited (Hyperliquid), the balance (Aster), or
        the new account's ``account_index`` (Lighter).
        """
        from toolkit.venues import registry

        spec = registry.spec(venue)
        funding = spec.sandbox_funding
        if funding is None:
            raise ValueError(f"the sandbox funds no {spec.label} address by hand")
        body = {funding.address: address, funding.amount: amount}
        return self._admin("POST", funding.path, json=body)[funding.answer]

    def hyperliquid_info_limits(
        self,
        budget: int | None = None,
        *,
        window_seconds: float = 60.0,
        fail_next: int = 0,
        retry_after: float = 1.0,
    ) -> dict[str, Any]:
        """Turn on Hyperliquid's IP weight budget for /info (``budget`` per window; None turns it
        off) and make the next ``fail_next`` requests answer 429; resets the counts."""
        body = {"budget": budget, "window_seconds": window_seconds, "fail_next": fail_next,
                "retry_after": retry_after}  # fmt: skip
        return self._admin("POST", "/hyperliquid/info-limits", json=body)

    def hyperliquid_info_stats(self) -> dict[str, Any]:
        """Requests, refusals (over budget), injected 429s and the peak weight in any window."""
        return self._admin("GET", "/hyperliquid/info-limits")

    def lighter_accepted_nonces(self, account_index: int, api_key_index: int) -> list[int]:
        """Every nonce the sandbox accepted for one Lighter key slot, in order of acceptance."""
        params = {"account_index": account_index, "api_key_index": api_key_index}
        return self._admin("GET", "/lighter/accepted-nonces", params=params)["nonces"]

    def hyperdex_api_key(self, label: str = "sandbox tenant") -> Any:
        """A HyperDEX tenant API key (a Secret) for ``X-API-KEY``."""
        from toolkit.secrets import Secret

        return Secret(self._admin("POST", "/hyperdex/api-keys", json={"label": label})["api_key"], "api_key")

    def stop(self) -> None:
        """Stop the server this handle started and free its home; an attached handle leaves the
        sandbox it attached to running."""
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        self._server = None
        if self.home is not None:
            logfile.close_log(self.home)
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this. Without it, a socket handed to uvicorn (rather than one it
    # binds itself) answers each keep-alive request ~40 ms late: Nagle against delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SandboxError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def connect(url: str, admin_token: str | Secret | None = None) -> Sandbox:
    """A handle on a sandbox running elsewhere, e.g. one serving a class from a server
    (``toolkit sandbox --host 0.0.0.0``). Its admin calls (``advance``, ``deposit`` ...) answer
    callers on the sandbox's own machine, and others that bring its admin token: the contents of
    ``sandbox_admin_token`` in the sandbox's home, here or in ``$TOOLKIT_SANDBOX_ADMIN_TOKEN``."""
    token = admin_token if admin_token is not None else os.environ.get("TOOLKIT_SANDBOX_ADMIN_TOKEN")
    handle = Sandbox(
        url.rstrip("/"), None, admin_token=None if token is None else Secret(token, "admin_token")
    )
    try:
        handle.status()
    except httpx.HTTPError as exc:
        raise SandboxError(f"no sandbox answers at {handle.url}: {type(exc).__name__}") from None
    return handle


def _attach(url: str) -> Sandbox | None:
    return Sandbox(url.rstrip("/"), None) if owner.answers(url) else None


def start(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    home: str | os.PathLike[str] | None = None,
    database_url: str | None = None,
    smtp_url: str | None = None,
    log_level: str = "info",
    reuse: bool = True,
    timeout: float = 30.0,
    market: Any = None,
    driven: bool = False,
) -> Sandbox:
    """Serve the sandbox from a background thread and return its handle.

    ``port=0`` takes a free port. State lives under ``home`` (``$TOOLKIT_HOME``, default
    ``~/.toolkit``), and one sandbox serves a home: when one already runs for it (another kernel,
    a re-run cell, ``toolkit sandbox``), ``start()`` attaches to it and warns, or with
    ``reuse=False`` refuses. With ``reuse`` and nothing else specified, a sandbox announced in
    ``TOOLKIT_SANDBOX_URL`` (as ``make lab`` does) is attached to first.

    ``market`` replays real history instead of the synthetic market: a ``frames`` ``MarketHistory``
    (``frames.Hyperliquid(...).market_history(...)``) or the folder one was saved to. Its clock
    starts at the history's beginning, moves only when advanced, and stops at its end; without a
    ``home`` it gets one of its own (``$TOOLKIT_HOME/replays/<fingerprint>``), so it carries on
    where it stopped next time. ``driven=True`` is for a throwaway sandbox one loop drives (a
    backtest's): the clock's moves are not stored, and each request runs the paper engine in the
    thread that serves it rather than handing it to a worker thread.
    """
    from toolkit.sandbox import replay

    announced = os.environ.get("TOOLKIT_SANDBOX_URL")
    if reuse and announced and not (port or home or database_url or smtp_url or market is not None):
        attached = _attach(announced)
        if attached is not None:
            return attached

    import uvicorn

    from toolkit.sandbox.app import create_app
    from toolkit.sandbox.config import SandboxConfig

    history, home, database_url = replay.resolve(market, home, database_url)
    config = SandboxConfig.resolve(home, database_url, smtp_url)
    try:
        lock = owner.Ownership(config.home, config.database_url)
    except ValueError as exc:
        raise SandboxError(str(exc)) from None
    if not lock.acquire_home():
        return _attach_to_owner(config.home, reuse, timeout)
    try:
        lock.acquire_database()
    except owner.DatabaseBusy as exc:
        raise SandboxError(str(exc)) from None

    def give_up() -> None:
        """Leave the home as found: its log closed, its locks free."""
        logfile.close_log(config.home)
        lock.release()

    sock = None
    try:
        logfile.open_log(config.home, getattr(logging, log_level.upper(), logging.INFO))
        for where, who in lock.stale:
            logging.getLogger("toolkit.sandbox").warning(
                "took over %s from %s, which had stopped", where, who
            )
        sock = _bind(host, port)
        bound_port = sock.getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        app = create_app(config, self_url=f"http://{shown_host}:{bound_port}", market=history, driven=driven)
    except BaseException:
        if sock is not None:
            sock.close()
        give_up()
        raise
    # log_level=None: uvicorn would set the process-wide loggers' levels; each log keeps its own
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, log_level=None, access_log=True, lifespan="on")
    )

    def serve() -> None:
        logfile.serving(config.home)  # this server's records go to this home's log
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()

    thread = threading.Thread(target=serve, name=f"toolkit-sandbox-{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            give_up()
            raise SandboxError(f"the sandbox stopped while starting; see {config.home / 'sandbox.log'}")
        if time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=15)
            give_up()
            raise SandboxError(f"the sandbox did not start within {timeout:.0f} s")
        time.sleep(0.01)
    url = f"http://{shown_host}:{bound_port}"
    lock.publish(url)
    return Sandbox(url, config.home, server, thread, lock)


def _attach_to_owner(home: Path, reuse: bool, timeout: float) -> Sandbox:
    """The handle of the sandbox that already serves ``home``, or SandboxError."""
    import warnings

    holder = owner.wait_for_owner(home, timeout)
    if holder is None:
        named = owner.read_owner(home) or "another process"
        raise SandboxError(f"the sandbox home {home} is held by {named}, which does not answer; stop that "
                           "process or give another home")  # fmt: skip
    if not reuse:
        raise SandboxError(
            f"a sandbox already serves {home}: {holder}; attach with start() or give another home"
        )
    warnings.warn(
        f"a sandbox already serves {home}: attached to it at {holder} rather than starting a second on "
        "the same database (stopping this handle leaves it running)",
        stacklevel=3,
    )
    return Sandbox(holder.url, home)
