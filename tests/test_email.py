"""Calendar e-mail against a real SMTP server on loopback (aiosmtpd), no mocks."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bot.convening.calendar_invite import Attendee, build_invitation, filename_for, uid_for
from bot.delivery.email import CalendarEmail, EmailDeliveryError, send_calendar_email
from bot.settings import Settings, load_settings

SENDER = "safeguarding-bot@council.example"
BODY = "You are invited to strategy discussion SD-2026-0001.\nPlease accept or decline."


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Handler:
    """Stores what arrives; refuses recipients listed in `refuse` with the given reply."""

    refuse: dict[str, str] = field(default_factory=dict)
    envelopes: list[Any] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class Server:
    handler: Handler
    port: int
    logins: list[tuple[bytes, bytes]]

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_from": f"Safeguarding Bot <{SENDER}>",
            "smtp_starttls": False,
            "smtp_timeout_seconds": 5,
        }
        values.update(overrides)
        return load_settings(**values)

    def received(self) -> EmailMessage:
        (envelope,) = self.handler.envelopes
        return email.message_from_bytes(envelope.content, policy=email.policy.default)


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            logins.append((auth_data.login, auth_data.password))
            return AuthResult(success=auth_data.password == b"right-password", handled=False)
        return AuthResult(success=False, handled=False)

    handler = Handler()
    port = _free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,  # loopback only; the real server would demand TLS
    )
    controller.start()
    try:
        yield Server(handler=handler, port=port, logins=logins)
    finally:
        controller.stop()


def _ics(*, cancelled: bool = False, sequence: int = 0) -> bytes:
    return build_invitation(
        uid=uid_for("SD-2026-0001"),
        sequence=sequence,
        cancelled=cancelled,
        summary="Strategy discussion SD-2026-0001 🙂",
        description="Join via Teams; agencies: police, health",
        start=datetime(2026, 10, 26, 10, 0, tzinfo=ZoneInfo("Europe/London")),
        duration=timedelta(hours=1),
        organizer=Attendee("Sam Convenor", "sam@council.example"),
        attendees=[Attendee("DS Police", "police@police.example")],
        location="Microsoft Teams",
        stamped_at=datetime(2026, 10, 20, 8, 30, tzinfo=UTC),
    )


def _email(**overrides: Any) -> CalendarEmail:
    values: dict[str, Any] = {
        "to": ("police@police.example", "Harper Health <harper@nhs.example>"),
        "subject": "Strategy discussion SD-2026-0001",
        "body": BODY,
        "ics": _ics(),
        "ics_filename": filename_for("SD-2026-0001", 0, cancelled=False),
        "method": "REQUEST",
    }
    values.update(overrides)
    return CalendarEmail(**values)


def _parts(message: EmailMessage) -> dict[str, EmailMessage]:
    return {part.get_content_type(): part for part in message.walk()}


def test_invitation_arrives_with_marking_calendar_part_and_attachment(
    smtp_server: Server,
) -> None:
    invitation = _email()
    send_calendar_email(smtp_server.settings(), invitation, message_id="<sd-2026-0001.0@bot>")

    (envelope,) = smtp_server.handler.envelopes
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == ["police@police.example", "harper@nhs.example"]

    message = smtp_server.received()
    assert message["Subject"] == "OFFICIAL-SENSITIVE: Strategy discussion SD-2026-0001"
    assert message["X-Protective-Marking"] == "OFFICIAL-SENSITIVE"
    assert message["Message-ID"] == "<sd-2026-0001.0@bot>"
    assert message["From"] == f"Safeguarding Bot <{SENDER}>"
    assert "harper@nhs.example" in message["To"]
    assert message["Date"].datetime.tzinfo is not None
    assert message.get_content_type() == "multipart/mixed"

    parts = _parts(message)
    assert "multipart/alternative" in parts
    assert parts["text/plain"].get_content().replace("\r\n", "\n").rstrip("\n") == BODY

    calendar = parts["text/calendar"]
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content_charset() == "utf-8"
    assert calendar.get_payload(decode=True) == invitation.ics
    assert calendar.get_filename() is None  # the inline alternative, not the attachment

    attachment = parts["application/ics"]
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "SD-2026-0001.ics"
    assert attachment.get_payload(decode=True) == invitation.ics

    # The calendar sits beside the text in the alternative, the attachment outside it.
    alternative = parts["multipart/alternative"]
    inner = [part.get_content_type() for part in alternative.iter_parts()]
    assert inner == ["text/plain", "text/calendar"]


def test_cancellation_says_method_cancel(smtp_server: Server) -> None:
    cancellation = _email(
        ics=_ics(cancelled=True, sequence=1),
        ics_filename=filename_for("SD-2026-0001", 1, cancelled=True),
        method="CANCEL",
    )
    send_calendar_email(smtp_server.settings(), cancellation)
    parts = _parts(smtp_server.received())
    assert parts["text/calendar"].get_param("method") == "CANCEL"
    assert parts["application/ics"].get_filename() == "SD-2026-0001-cancelled.ics"
    assert b"METHOD:CANCEL" in parts["application/ics"].get_payload(decode=True)


def test_subject_marking_is_not_doubled(smtp_server: Server) -> None:
    send_calendar_email(smtp_server.settings(), _email(subject="OFFICIAL-SENSITIVE: Strategy discussion"))
    assert smtp_server.received()["Subject"] == "OFFICIAL-SENSITIVE: Strategy discussion"


def test_message_id_is_generated_when_not_given(smtp_server: Server) -> None:
    settings = smtp_server.settings()
    send_calendar_email(settings, _email())
    send_calendar_email(settings, _email())
    first, second = (
        email.message_from_bytes(envelope.content, policy=email.policy.default)["Message-ID"]
        for envelope in smtp_server.handler.envelopes
    )
    assert first != second
    assert first.startswith("<") and first.endswith("@council.example>")


def test_message_id_without_brackets_is_bracketed(smtp_server: Server) -> None:
    send_calendar_email(smtp_server.settings(), _email(), message_id="outbox-42@bot")
    assert smtp_server.received()["Message-ID"] == "<outbox-42@bot>"


def test_login_when_a_username_is_set(smtp_server: Server) -> None:
    settings = smtp_server.settings(smtp_username="bot", smtp_password="right-password")
    send_calendar_email(settings, _email())
    assert smtp_server.logins == [(b"bot", b"right-password")]
    assert len(smtp_server.handler.envelopes) == 1


def test_no_login_without_a_username(smtp_server: Server) -> None:
    send_calendar_email(smtp_server.settings(), _email())
    assert smtp_server.logins == []


def test_wrong_password_is_permanent(smtp_server: Server) -> None:
    settings = smtp_server.settings(smtp_username="bot", smtp_password="wrong")
    with pytest.raises(EmailDeliveryError) as raised:
        send_calendar_email(settings, _email())
    assert raised.value.permanent is True
    assert raised.value.code == 535
    assert smtp_server.handler.envelopes == []


def test_starttls_requested_but_not_offered_refuses_to_send_in_clear(
    smtp_server: Server,
) -> None:
    """The loopback server offers no STARTTLS; the message must not go in clear text.

    Temporary, not permanent: the server (or a failover) may offer TLS again later, and
    an operator can fix the setting without the invitation being lost.
    """
    with pytest.raises(EmailDeliveryError) as raised:
        send_calendar_email(smtp_server.settings(smtp_starttls=True), _email())
    assert raised.value.permanent is False
    assert "not sending in clear" in str(raised.value)
    assert smtp_server.handler.envelopes == []


def test_refused_recipient_is_permanent(smtp_server: Server) -> None:
    smtp_server.handler.refuse["nobody@police.example"] = "550 5.1.1 No such user"
    with pytest.raises(EmailDeliveryError) as raised:
        send_calendar_email(smtp_server.settings(), _email(to=("nobody@police.example",)))
    error = raised.value
    assert error.permanent is True
    assert error.code == 550
    assert error.refused == ("nobody@police.example",)
    assert BODY not in str(error) and "Strategy" not in str(error)
    assert smtp_server.handler.envelopes == []


def test_temporarily_refused_recipient_is_not_permanent(smtp_server: Server) -> None:
    smtp_server.handler.refuse["busy@police.example"] = "451 4.3.0 Try again later"
    with pytest.raises(EmailDeliveryError) as raised:
        send_calendar_email(smtp_server.settings(), _email(to=("busy@police.example",)))
    assert raised.value.permanent is False
    assert raised.value.code == 451


def test_partly_refused_delivery_names_the_refused(smtp_server: Server) -> None:
    smtp_server.handler.refuse["nobody@police.example"] = "550 5.1.1 No such user"
    with pytest.raises(EmailDeliveryError) as raised:
        send_calendar_email(
            smtp_server.settings(), _email(to=("harper@nhs.example", "nobody@police.example"))
        )
    assert raised.value.permanent is True
    assert raised.value.refused == ("nobody@police.example",)
    assert "1 of 2" in str(raised.value)
    (envelope,) = smtp_server.handler.envelopes
    assert envelope.rcpt_tos == ["harper@nhs.example"]


def test_server_not_listening_is_temporary() -> None:
    settings = load_settings(
        smtp_host="127.0.0.1", smtp_port=_free_port(), smtp_from=SENDER, smtp_starttls=False
    )
    with pytest.raises(EmailDeliveryError) as raised:
        send_calendar_email(settings, _email())
    assert raised.value.permanent is False
    assert raised.value.code is None


def test_silent_server_times_out_as_temporary() -> None:
    # A listening socket nobody answers: the TCP handshake completes, no greeting comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        settings = load_settings(
            smtp_host="127.0.0.1",
            smtp_port=silent.getsockname()[1],
            smtp_from=SENDER,
            smtp_starttls=False,
            smtp_timeout_seconds=0.3,
        )
        with pytest.raises(EmailDeliveryError) as raised:
            send_calendar_email(settings, _email())
    assert raised.value.permanent is False
    assert "timed out" in str(raised.value)


def test_unconfigured_email_is_refused_without_connecting() -> None:
    with pytest.raises(EmailDeliveryError) as raised:
        send_calendar_email(load_settings(smtp_host="", smtp_from=""), _email())
    assert raised.value.permanent is True


def test_body_is_never_logged(smtp_server: Server, caplog: pytest.LogCaptureFixture) -> None:
    smtp_server.handler.refuse["nobody@police.example"] = "550 5.1.1 No such user"
    with caplog.at_level(logging.DEBUG):
        send_calendar_email(smtp_server.settings(), _email())
        with pytest.raises(EmailDeliveryError):
            send_calendar_email(smtp_server.settings(), _email(to=("nobody@police.example",)))
    ours = [record.getMessage() for record in caplog.records if record.name.startswith("bot.")]
    assert ours  # the sending is logged ...
    assert not any("accept or decline" in line for line in ours)  # ... but not what was sent
    assert not any("VCALENDAR" in line or "Strategy" in line for line in ours)


@pytest.mark.parametrize(
    "overrides",
    [
        {"to": ()},
        {"to": ("not an address",)},
        {"to": ("a@b.example\r\nBcc: c@d.example",)},
        {"method": "PUBLISH"},
        {"method": "CANCEL"},  # the .ics says REQUEST
        {"ics_filename": "../SD-2026-0001.ics"},
        {"ics_filename": "SD-2026-0001.txt"},
    ],
)
def test_malformed_email_is_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _email(**overrides)
