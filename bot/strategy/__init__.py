"""Strategy discussions: the `/strategy` command and everything it convenes."""
