"""Slack's request signature, checked strictly, before anything else reads a request.

Slack signs each request: `X-Slack-Request-Timestamp` (seconds since the epoch, as a plain
integer) and `X-Slack-Signature` (`v0=` and the hex HMAC-SHA256, under the app's signing
secret, of `v0:<timestamp>:<raw body>`). Anything else is refused: a missing or malformed
header, a timestamp more than five minutes from the wall clock, a wrong signature. The
comparison takes the same time however much of the signature matches.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable

TOLERANCE_SECONDS = 5 * 60
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def signature_of(secret: str, timestamp: str, body: bytes) -> str:
    """The `v0=` signature Slack sends for `body` at `timestamp`."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


class SlackSignature:
    """Checks requests against one signing secret, on the wall clock (never a test's clock:
    Slack signs with real time)."""

    def __init__(self, secret: str, wall_clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._now = wall_clock

    def problem(self, timestamp: str | None, signature: str | None, body: bytes) -> str:
        """Why a request is not Slack's, in a few words with nothing of the request in them;
        "" when it is."""
        if not self._secret:
            return "no signing secret is configured"
        if timestamp is None or signature is None:
            return "a signature header is missing"
        if not _TIMESTAMP.fullmatch(timestamp):
            return "the timestamp is not a plain integer"
        if abs(self._now() - int(timestamp)) > TOLERANCE_SECONDS:
            return "the timestamp is more than five minutes from now"
        if not _SIGNATURE.fullmatch(signature):
            return "the signature is malformed"
        if not hmac.compare_digest(signature_of(self._secret, timestamp, body), signature):
            return "the signature does not match"
        return ""
