"""Send partner e-mails through GOV.UK Notify (`notifications-python-client`).

The Notify template takes two personalisation fields, `((subject))` and `((body))`, so the
wording stays in the bot's templates as it does for SMTP. Failures raise
`EmailDeliveryError` like SMTP's: 400 and 403 (a bad address, key or template) are
permanent; 429, 5xx and connection trouble are tried again. Nothing of the body is logged.
"""

from __future__ import annotations

import logging

from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient

from bot.delivery.email import SUBJECT_PREFIX, EmailDeliveryError
from bot.settings import Settings

log = logging.getLogger(__name__)


def send_notify_email(settings: Settings, to: str, subject: str, body: str, *, reference: str) -> str:
    """One e-mail through Notify; returns Notify's id for it."""
    if not (settings.notify_api_key and settings.notify_template_id):
        raise EmailDeliveryError("GOV.UK Notify is not configured", permanent=True)
    subject = " ".join(subject.split())
    subject = subject if subject.startswith(SUBJECT_PREFIX) else SUBJECT_PREFIX + subject
    try:
        client = NotificationsAPIClient(
            settings.notify_api_key, base_url=settings.notify_base_url, timeout=20
        )
        response = client.send_email_notification(
            email_address=to,
            template_id=settings.notify_template_id,
            personalisation={"subject": subject, "body": body},
            reference=reference,
        )
    except HTTPError as error:
        status = error.status_code if isinstance(error.status_code, int) else None
        permanent = status is not None and 400 <= status < 500 and status != 429
        raise EmailDeliveryError(
            f"GOV.UK Notify refused the e-mail ({status})", permanent=permanent, code=status
        ) from None
    except (OSError, ValueError) as error:
        raise EmailDeliveryError(
            f"could not reach GOV.UK Notify: {type(error).__name__}", permanent=False
        ) from None
    notification_id = str(response.get("id", ""))
    log.info("e-mail sent through Notify", extra={"event": "notify.sent", "notification_id": notification_id})
    return notification_id
