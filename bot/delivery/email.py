"""Send calendar invitations by e-mail over SMTP, for people who are not in Slack.

The message carries the invitation twice, the usual arrangement that makes both Outlook
and Gmail offer Accept/Decline: as a `text/calendar; method=...` alternative to the text
body, and as an `.ics` attachment. Every message is marked OFFICIAL-SENSITIVE in its
subject and in an `X-Protective-Marking` header.

Failures raise `EmailDeliveryError` with a short reason and a `permanent` flag, so the
outbox can tell "try again later" (4xx, connection trouble) from "no retry will cure this"
(5xx). Neither the reason nor the log ever holds the body or the invitation.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from bot.settings import Settings

log = logging.getLogger(__name__)

MARKING = "OFFICIAL-SENSITIVE"
SUBJECT_PREFIX = f"{MARKING}: "
METHODS = frozenset({"REQUEST", "CANCEL"})
IMPLICIT_TLS_PORT = 465


class EmailDeliveryError(Exception):
    """Sending failed; `permanent` says whether retrying the same message could succeed."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: int | None = None,
        refused: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.refused = refused


@dataclass(frozen=True)
class CalendarEmail:
    """One invitation e-mail; `ics` is what `build_invitation` made, `method` its METHOD."""

    to: tuple[str, ...]
    subject: str
    body: str
    ics: bytes
    ics_filename: str
    method: str  # "REQUEST" or "CANCEL"

    def __post_init__(self) -> None:
        """Refuse a malformed e-mail before anything touches the network."""
        if not self.to:
            raise ValueError("an e-mail needs at least one recipient")
        for address in self.to:
            _, parsed = parseaddr(address)
            if "@" not in parsed or any(c in address for c in "\r\n"):
                raise ValueError("a recipient is not an e-mail address")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {sorted(METHODS)}")
        if f"METHOD:{self.method}\r\n".encode() not in self.ics:
            raise ValueError("the invitation's METHOD does not match the e-mail's method")
        if not self.ics_filename.endswith(".ics") or "/" in self.ics_filename or "\\" in self.ics_filename:
            raise ValueError("ics_filename must be a plain file name ending in .ics")


def _marked(subject: str) -> str:
    """The subject with the protective marking in front, added once."""
    subject = " ".join(subject.split())  # no folded or multi-line subjects
    return subject if subject.startswith(SUBJECT_PREFIX) else SUBJECT_PREFIX + subject


def _message_id(given: str | None, sender: str) -> str:
    """The caller's Message-ID (so a retry is recognisable), or a fresh one."""
    if given is None:
        _, address = parseaddr(sender)
        domain = address.rpartition("@")[2] or None
        return make_msgid(domain=domain)
    given = given.strip()
    if not given or any(c in given for c in " \r\n"):
        raise ValueError("message_id must be a single token")
    return given if given.startswith("<") and given.endswith(">") else f"<{given}>"


def build_message(settings: Settings, email: CalendarEmail, message_id: str) -> EmailMessage:
    """The MIME message: mixed[alternative[text/plain, text/calendar], application/ics]."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(email.to)
    message["Subject"] = _marked(email.subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id
    message["X-Protective-Marking"] = MARKING
    message.set_content(email.body, subtype="plain", charset="utf-8")
    # The calendar part goes base64, so its CRLF line ends and any UTF-8 arrive intact. The
    # email package writes the parameter as method="REQUEST"; quoting is valid MIME.
    message.add_alternative(
        email.ics,
        maintype="text",
        subtype="calendar",
        params={"method": email.method, "charset": "UTF-8"},
    )
    message.make_mixed()
    message.add_attachment(
        email.ics,
        maintype="application",
        subtype="ics",
        filename=email.ics_filename,
        params={"name": email.ics_filename},
    )
    return message


def _from_code(reason: str, code: int | None) -> EmailDeliveryError:
    """5xx replies are permanent; 4xx (and anything unexpected) are worth retrying."""
    permanent = code is not None and 500 <= code < 600
    detail = f"{reason} ({code})" if code is not None else reason
    return EmailDeliveryError(detail, permanent=permanent, code=code)


def _open(settings: Settings) -> smtplib.SMTP:
    """Connect, with implicit TLS on port 465 and plain SMTP (then STARTTLS) otherwise."""
    timeout = settings.smtp_timeout_seconds
    if settings.smtp_port == IMPLICIT_TLS_PORT:
        return smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=timeout,
            context=ssl.create_default_context(),
        )
    return smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)


def _send(settings: Settings, message: EmailMessage, to: tuple[str, ...]) -> dict[str, tuple[int, bytes]]:
    """One SMTP conversation; returns the recipients the server refused."""
    with _open(settings) as smtp:
        smtp.ehlo()
        if settings.smtp_starttls and not isinstance(smtp, smtplib.SMTP_SSL):
            if not smtp.has_extn("starttls"):
                # Refuse to fall back to clear text: the message is OFFICIAL-SENSITIVE.
                raise EmailDeliveryError(
                    "the mail server does not offer STARTTLS; not sending in clear",
                    permanent=False,
                )
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        _, sender = parseaddr(settings.smtp_from)
        return smtp.send_message(message, from_addr=sender, to_addrs=list(to))


def send_calendar_email(settings: Settings, email: CalendarEmail, *, message_id: str | None = None) -> None:
    """Send the invitation, or raise `EmailDeliveryError` saying whether to retry.

    If the server takes the message for some recipients but refuses others, the error
    lists the refused ones in `refused`; it is permanent only if every refusal was 5xx.
    A retry after a partial delivery repeats the same Message-ID and calendar UID, so
    mail and calendar clients treat the repeat as the same invitation.
    """
    if not settings.email_enabled:
        raise EmailDeliveryError("e-mail is not configured (SMTP_HOST, SMTP_FROM)", permanent=True)
    message_id = _message_id(message_id, settings.smtp_from)
    _deliver(settings, build_message(settings, email, message_id), email.to)
    log.info(
        "calendar e-mail sent",
        extra={"event": "email.sent", "message_id": message_id, "recipients": len(email.to)},
    )


def send_plain_email(
    settings: Settings, to: tuple[str, ...], subject: str, body: str, *, message_id: str | None = None
) -> None:
    """A plain-text e-mail (a partner's link to a page), marked like the invitations; raises
    `EmailDeliveryError` saying whether to retry, as `send_calendar_email` does."""
    if not settings.email_enabled:
        raise EmailDeliveryError("e-mail is not configured (SMTP_HOST, SMTP_FROM)", permanent=True)
    for address in to:
        _, parsed = parseaddr(address)
        if "@" not in parsed or any(c in address for c in "\r\n"):
            raise EmailDeliveryError("a recipient is not an e-mail address", permanent=True)
    message_id = _message_id(message_id, settings.smtp_from)
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(to)
    message["Subject"] = _marked(subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id
    message["X-Protective-Marking"] = MARKING
    message.set_content(body, subtype="plain", charset="utf-8")
    _deliver(settings, message, to)
    log.info("e-mail sent", extra={"event": "email.sent", "message_id": message_id, "recipients": len(to)})


def _deliver(settings: Settings, message: EmailMessage, to: tuple[str, ...]) -> None:
    """One message to the server, every failure as `EmailDeliveryError`."""
    try:
        refused = _send(settings, message, to)
    except EmailDeliveryError:
        raise
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        raise EmailDeliveryError(
            "every recipient was refused",
            permanent=all(500 <= code < 600 for code in codes),
            code=max(codes) if codes else None,
            refused=tuple(error.recipients),
        ) from None
    except smtplib.SMTPSenderRefused as error:
        raise _from_code("the sender address was refused", error.smtp_code) from None
    except smtplib.SMTPAuthenticationError as error:
        raise _from_code("the mail server refused the login", error.smtp_code) from None
    except smtplib.SMTPDataError as error:
        raise _from_code("the mail server refused the message", error.smtp_code) from None
    except smtplib.SMTPNotSupportedError:
        raise EmailDeliveryError(
            "the mail server does not support a needed extension (AUTH or STARTTLS)",
            permanent=False,
        ) from None
    except smtplib.SMTPResponseException as error:
        raise _from_code("the mail server replied with an error", error.smtp_code) from None
    except smtplib.SMTPServerDisconnected as error:
        # smtplib reports a read that timed out as a disconnection; say which it was.
        timed_out = isinstance(error.__context__, TimeoutError)
        reason = "the mail server timed out" if timed_out else "the mail server closed the connection"
        raise EmailDeliveryError(reason, permanent=False) from None
    except smtplib.SMTPException as error:
        raise EmailDeliveryError(f"SMTP error: {type(error).__name__}", permanent=False) from None
    except TimeoutError:
        raise EmailDeliveryError("the mail server timed out", permanent=False) from None
    except ssl.SSLError as error:
        raise EmailDeliveryError(
            f"TLS with the mail server failed: {error.reason or type(error).__name__}",
            permanent=False,
        ) from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise EmailDeliveryError(f"could not reach the mail server: {reason}", permanent=False) from None
    if refused:
        codes = [code for code, _ in refused.values()]
        raise EmailDeliveryError(
            f"{len(refused)} of {len(to)} recipients were refused",
            permanent=all(500 <= code < 600 for code in codes),
            code=max(codes),
            refused=tuple(refused),
        )
