"""Cases: the child a discussion or panel is about, known in Slack only by reference."""
