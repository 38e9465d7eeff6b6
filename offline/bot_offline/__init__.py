"""The bot's offline tools: the local Slack server, the offline driver and the demo. Not part
of the production wheel (see offline/README.md)."""
