"""Safeguarding panel bot: strategy discussions and panels for a partnership, in Slack."""

__version__ = "0.1.0"
