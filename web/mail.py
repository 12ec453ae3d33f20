"""Outgoing mail: SMTP when SMTP_URL is set, otherwise the outbox table and the log."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from models.db import session_scope
from models.outbox import keep_in_outbox
from settings import get_settings

log = logging.getLogger("syncboard.mail")


def send_mail(to: str, subject: str, body: str) -> str:
    """Deliver, or keep in the outbox; returns "sent" or "outbox". SMTP errors fall back to the outbox."""
    url = get_settings().smtp_url
    parts = urlparse(url) if url else None
    host = parts.hostname if parts else None
    if parts and not host:
        log.warning("SMTP_URL names no host; mail to %s kept in the outbox", to)
    if parts and host:
        message = EmailMessage()
        message["From"] = parts.username and f"{unquote(parts.username)}" or "syncboard@localhost"
        if "@" not in message["From"]:
            message.replace_header("From", f"syncboard@{host}")
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        try:
            smtp_cls = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
            with smtp_cls(
                host, parts.port or (465 if parts.scheme == "smtps" else 25), timeout=10
            ) as smtp:
                if parts.scheme == "smtp+starttls":
                    smtp.starttls()
                if parts.username:
                    smtp.login(unquote(parts.username), unquote(parts.password or ""))
                smtp.send_message(message)
            return "sent"
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("could not send mail to %s (%s); kept in the outbox", to, exc)
    with session_scope() as db:
        keep_in_outbox(db, to, subject, body)
    log.info("mail to %s kept in the outbox: %s", to, subject)
    return "outbox"
