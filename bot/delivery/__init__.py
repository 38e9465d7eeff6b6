"""Delivery: Slack side effects written to an outbox with the state they follow, then sent."""
