"""Periodic work done once per turn, however many processes and replicas share the database.

Every process runs a scheduler; before a periodic job (the sweep, retention) runs, the
process takes the job's turn from the database with a conditional update, so exactly one
process does each turn, a restart carries on where the database says, and when a process
stops another takes the next turn.
"""
