"""The App Home tab: what a person has to do, and what they may open."""
