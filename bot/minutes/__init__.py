"""Decisions and minutes: what a meeting decided and the documents that record it."""
