"""Actions: who does what by when, and the chasing that sees them done."""
