"""Retention and erasure: records are kept as long as the partnership's policy says, no longer."""
