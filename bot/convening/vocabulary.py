"""The words the partnership uses for concerns, levels, formats and answers, in one place."""

from __future__ import annotations

CONCERNS: dict[str, str] = {
    "criminal_exploitation": "Criminal exploitation",
    "county_lines": "County lines",
    "sexual_exploitation": "Sexual exploitation",
    "missing": "Missing episodes",
    "weapons": "Weapons",
    "online": "Online harm or grooming",
    "other": "Other",
}

# Every concern above is a form of exploitation or extra-familial harm: any of them brings
# in the agencies the meeting type lists under `required_when_exploitation`.
EXPLOITATION_CONCERNS = frozenset(CONCERNS)

RIGHT_HELP_RIGHT_TIME: dict[str, str] = {
    "universal": "Universal",
    "universal_plus": "Universal plus",
    "additional_needs": "Additional needs",
    "complex_significant": "Complex / significant",
}

FORMATS: dict[str, str] = {
    "meeting": "Meeting in person",
    "call": "Conference call",
    "video": "Video call",
}

ANSWERS: dict[str, str] = {
    "invited": "no answer yet",
    "attending": "attending",
    "delegate": "sending a delegate",
    "written_update": "cannot attend, written update",
    "declined": "declined",
}

URGENCY_NAMES: dict[str, str] = {
    "immediate": "Immediate",
    "urgent": "Urgent",
    "standard": "Standard",
}
