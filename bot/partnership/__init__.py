"""The partnership: its agencies and the people who act for them."""
