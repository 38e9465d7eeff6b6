"""The panel's words: what can be referred, risk levels, screening results, decisions and
the agenda's sections, as people see them in forms and documents."""

SUBJECT_KINDS: dict[str, str] = {
    "child": "Child",
    "location": "Location",
    "peer_group": "Peer group",
    "school": "School",
}
RISK_LEVELS: dict[str, str] = {"high": "High", "medium": "Medium", "low": "Low"}
RISK_ORDER = {"high": 0, "medium": 1, "low": 2, "": 3}
SCREENING_RESULTS: dict[str, str] = {
    "significant": "Significant risk (screening tool)",
    "moderate": "Moderate risk (screening tool)",
    "low": "Low risk (screening tool)",
    "not_screened": "Not yet screened",
}
DECISIONS: dict[str, str] = {
    "step_up": "Step up",
    "continue": "Continue under review",
    "step_down": "Step down",
}
NRM: dict[str, str] = {
    "none": "No referral",
    "referred": "Referral made",
    "to_refer": "Referral to be made",
    "already": "Already referred",
}
# Agenda sections, in the order the panel takes them.
SECTIONS: dict[str, str] = {
    "opening": "Attendance and confidentiality",
    "actions": "Actions from last time",
    "new_referral": "New referrals",
    "under_review": "Children under review",
    "perpetrators": "Suspected perpetrators",
    "location": "Locations",
    "peer_group": "Peer groups",
    "school": "Schools",
    "themes": "Themes and intelligence",
}
# What came of a disruption action, as its owner records it when it is done.
DISRUPTION_RESULTS: dict[str, str] = {
    "achieved": "Achieved (served, made or carried out)",
    "partly": "Partly achieved",
    "not_achieved": "Not achieved",
    "withdrawn": "Withdrawn (no longer needed)",
}
