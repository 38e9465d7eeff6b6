"""Local stand-ins for Slack: a Web API server and a client that signs requests like Slack."""

from bot_offline.local_slack.server import (
    LocalSlack,
    RecordedCall,
    UploadedFile,
    validate_message_blocks,
    validate_message_metadata,
    validate_view,
)
from bot_offline.local_slack.signed_client import (
    SendOptions,
    SignedResponse,
    SignedSlackClient,
    StateValue,
    sign,
    view_state,
)

__all__ = [
    "LocalSlack",
    "RecordedCall",
    "SendOptions",
    "SignedResponse",
    "SignedSlackClient",
    "StateValue",
    "UploadedFile",
    "sign",
    "validate_message_blocks",
    "validate_message_metadata",
    "validate_view",
    "view_state",
]
