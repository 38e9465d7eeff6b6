"""The Slack edge: the Web API client, the Bolt app factory, the manifest and error handling."""
