"""Mail the sandbox sends: into the outbox table by default, or through SMTP when configured."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from toolkit.sandbox import store

log = logging.getLogger("toolkit.sandbox.mail")

SENDER = "no-reply@sandbox.toolkit.local"


class Mailer:
    """Delivers a message. With ``smtp_url`` (``smtp://[user:pass@]host:port``, or ``smtps://``)
    it goes to that server; otherwise it lands in the outbox a user reads with
    ``toolkit sandbox outbox`` or ``PaperClient.outbox()``."""

    def __init__(self, engine: Engine, smtp_url: str | None = None) -> None:
        self.engine = engine
        self.smtp_url = smtp_url

    def send(self, to: str, subject: str, body: str, now_ms: int) -> None:
        if self.smtp_url:
            self._send_smtp(to, subject, body)
            return
        with self.engine.begin() as conn:
            conn.execute(store.outbox.insert().values(to_addr=to, subject=subject, body=body, sent_at=now_ms))

    def _send_smtp(self, to: str, subject: str, body: str) -> None:
        url = urlsplit(self.smtp_url or "")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = SENDER, to, subject
        message.set_content(body)
        smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
        try:
            with smtp_class(url.hostname or "127.0.0.1", url.port or 25, timeout=10) as smtp:
                if url.username:
                    smtp.login(unquote(url.username), unquote(url.password or ""))
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            # The caller answers the same either way (no account enumeration); say why here.
            log.error("could not deliver mail through %s: %s", url.hostname, type(exc).__name__)


def read_outbox(engine: Engine, email: str | None = None, limit: int = 100) -> list[dict]:
    """Messages in the outbox, newest first, optionally only those to ``email``."""
    query = sa.select(store.outbox).order_by(store.outbox.c.id.desc()).limit(limit)
    if email:
        query = query.where(store.outbox.c.to_addr == email.strip().lower())
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
