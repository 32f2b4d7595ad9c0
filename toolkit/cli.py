"""The `toolkit` command: `toolkit sandbox` serves the sandbox; `... outbox` reads its mail."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import signal
import sys
from collections.abc import Sequence


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class _Stopped(Exception):
    """The server was asked to stop (SIGTERM, Ctrl-C) and has shut down."""


def _stopped(signum: int, frame: object) -> None:
    raise _Stopped


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from toolkit.sandbox import owner
    from toolkit.sandbox.app import create_app
    from toolkit.sandbox.config import ADMIN_TOKEN_FILE, ADMIN_TOKEN_HEADER, SandboxConfig

    if args.workers != 1:
        print(
            f"toolkit sandbox: --workers {args.workers} is refused: the sandbox keeps its clock, caches and "
            "paper engine in one process, and a second worker on the same database would silently "
            "diverge from the first. Run one sandbox per database.",
            file=sys.stderr,
        )
        return 2
    from toolkit.sandbox import SandboxError, replay

    try:
        history, home, database_url = replay.resolve(args.replay, args.home, args.database_url)
    except (OSError, ValueError) as exc:
        print(f"toolkit sandbox: --replay {args.replay}: {exc}", file=sys.stderr)
        return 2
    config = SandboxConfig.resolve(home, database_url)
    try:
        lock = owner.Ownership(config.home, config.database_url)
    except ValueError as exc:
        print(f"toolkit sandbox: {exc}", file=sys.stderr)
        return 2
    if not lock.acquire_home():
        holder = owner.read_owner(config.home) or "another process"
        print(f"toolkit sandbox: a sandbox already serves {config.home}: {holder}; stop it, or give "
              "another --home", file=sys.stderr)  # fmt: skip
        return 1
    try:
        lock.acquire_database()
    except owner.DatabaseBusy as exc:
        print(f"toolkit sandbox: {exc}", file=sys.stderr)
        return 1
    try:
        for where, who in lock.stale:
            print(f"toolkit sandbox: took over {where} from {who}, which had stopped", file=sys.stderr)
        shown = f"[{args.host}]" if ":" in args.host else args.host
        url = f"http://{shown}:{args.port}"
        try:
            app = create_app(config, self_url=url, market=history)
        except SandboxError as exc:
            print(f"toolkit sandbox: {exc}", file=sys.stderr)
            return 1
        lock.publish(url)
        print(f"toolkit sandbox: {url}  (home {config.home})", flush=True)
        if not _loopback(args.host):
            print(f"toolkit sandbox: answering callers on every network {args.host} reaches; the admin "
                  f"routes answer this machine, and others that send the token in "
                  f"{config.home / ADMIN_TOKEN_FILE} (header {ADMIN_TOKEN_HEADER})", flush=True)  # fmt: skip
        # uvicorn shuts down gracefully on SIGTERM or Ctrl-C, then raises the signal again: caught
        # here, so the locks are released (and their records cleared) before the process ends
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _stopped)
        with contextlib.suppress(_Stopped):
            uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    finally:
        lock.release()
    return 0


def _outbox(args: argparse.Namespace) -> int:
    from toolkit.sandbox import store
    from toolkit.sandbox.clock import iso
    from toolkit.sandbox.config import SandboxConfig
    from toolkit.sandbox.mail import read_outbox

    config = SandboxConfig.resolve(args.home, args.database_url)
    engine = store.create_engine(config.database_url)
    store.migrate(engine)
    messages = read_outbox(engine, args.email, args.limit)
    if not messages:
        print("The outbox is empty.")
    for m in messages:
        print(f"--- #{m['id']}  {iso(m['sent_at']):%Y-%m-%d %H:%M:%S} UTC")
        print(f"To: {m['to_addr']}\nSubject: {m['subject']}\n\n{m['body']}")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from toolkit.sandbox import migrate, owner

    if not (args.from_url and args.to_url):
        print("toolkit sandbox migrate: give both --from URL and --to URL", file=sys.stderr)
        return 2
    shown_from, shown_to = owner.shown(args.from_url), owner.shown(args.to_url)
    print(f"toolkit sandbox migrate: {shown_from} -> {shown_to}", flush=True)
    try:
        counts = migrate.copy(args.from_url, args.to_url)
    except (migrate.MigrationError, ValueError) as exc:
        print(f"toolkit sandbox migrate: {exc}", file=sys.stderr)
        return 1
    width = max(map(len, counts))
    for table, n in counts.items():
        print(f"  {table:<{width}}  {n:>10,}")
    print(f"toolkit sandbox migrate: {sum(counts.values()):,} rows in {len(counts)} tables copied; every "
          "table's count checked", flush=True)  # fmt: skip
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toolkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sandbox = sub.add_parser("sandbox", help="run the sandbox, read its outbox, or copy its database")
    sandbox.add_argument("action", nargs="?", choices=["serve", "outbox", "migrate"], default="serve")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--home", default=None, help="state folder (default $TOOLKIT_HOME or ~/.toolkit)")
    sandbox.add_argument(
        "--database-url",
        default=None,
        help="any SQLAlchemy URL (default $TOOLKIT_DATABASE_URL, else SQLite in the home)",
    )
    sandbox.add_argument(
        "--workers", type=int, default=1, help="must be 1: the sandbox's state lives in one process"
    )
    sandbox.add_argument(
        "--replay",
        default=None,
        metavar="DIR",
        help="replay the real history saved in DIR (MarketHistory.save) instead of the synthetic market",
    )
    sandbox.add_argument("--log-level", default="info")
    sandbox.add_argument(
        "--from", dest="from_url", default=None, metavar="URL", help="migrate: the database to copy"
    )
    sandbox.add_argument(
        "--to", dest="to_url", default=None, metavar="URL", help="migrate: the empty database to copy it into"
    )
    sandbox.add_argument("--email", default=None, help="outbox: only mail to this address")
    sandbox.add_argument("--limit", type=int, default=20, help="outbox: at most this many messages")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sandbox":
        return {"outbox": _outbox, "migrate": _migrate}.get(args.action, _serve)(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
