"""Several children in one discussion: who the discussion concerns, their households, and
the children linked through a context (others at risk, by case reference only)."""
