"""The Criminal Exploitation Panel: its calendar, referrals, agenda and VOLT minutes."""
