"""Specimen contexts of each document type: realistic, fictional values of exactly the shape
the context builders make (tests hold them together). `python -m bot check` renders every
template against its specimen, so a tag the context does not provide is reported before a
partnership's restyled template reaches a chair; tests and the README pictures use them too."""

from __future__ import annotations

from typing import Any

from bot.documents.vocabulary import no_break, references_unbroken

MARKING = "OFFICIAL-SENSITIVE"
CONFIDENTIALITY = (
    "This record contains personal information shared to safeguard children. "
    "Do not share it beyond the circulation list."
)
NOTE = (
    "Figure: links between children, peers, suspected perpetrators and locations recorded at "
    "referral and in updates."
)


def _grid_row(indicator: str, **ratings: str) -> dict[str, str]:
    shades = {"current": "F4B6B6", "historic": "FCE4B6"}
    row = {"indicator": indicator}
    for code in ("current", "historic", "not_known", "not_present"):
        row[code] = ratings.get(code, "None")
        row[f"{code}_shade"] = shades.get(code, "FFFFFF") if code in ratings else "FFFFFF"
    return row


POLICE_HANDLING = "Police information: not to be shared with the family or beyond social care and the police"


def minutes_specimen(*, withheld: bool = False) -> dict[str, Any]:
    """A follow-up discussion about a child at risk of criminal exploitation; `withheld`
    gives the copy for an agency not entitled to the police's restricted text."""
    police_sections = [
        {"label": "Police intelligence", "text": "Seen with a known county lines associate."},
    ]
    return {
        "marking": MARKING,
        "confidentiality": "This record contains personal information shared under section 47 of the "
        "Children Act 1989. Do not share it beyond the circulation list.",
        "partnership": "Birmingham Safeguarding Children Partnership",
        "reference": "SD\u20112025\u20110142",
        "kind": "Follow-up",
        "follows": "SD\u20112025\u20110117",
        "date": "Tuesday 04 March 2025",
        "time": "10:00",
        "end_time": "11:15",
        "format": "Video call",
        "chair": "Priya Shah, Team Manager",
        "minute_taker": "Tom Reed, Business Support Officer",
        "referral": "Monday 03 March 2025 16:40",
        "urgency": "Urgent",
        "deadline": "Tuesday 04 March 2025 16:40",
        "held_within": "Yes",
        "late_reason": "",
        "out_of_hours": "No",
        "rhrt_level": "Complex / significant",
        "concerns": "Criminal exploitation, County lines, Missing episodes",
        "children": [
            {
                "name": "Jayden Miller",
                "date_of_birth": "12 June 2010",
                "case_reference": "CS\u2011778812",
                "sex": "Male",
                "ethnicity": "Mixed: White and Black Caribbean",
                "disability": "None recorded",
                "first_language": "English",
                "interpreter": "No",
                "nhs_number": "943 476 5919",
                "legal_status": "Child in need",
                "school": "Northfield Academy",
                "siblings": "Ava Miller (8), same address",
                "parents": "Donna Miller (mother, parental responsibility)",
            }
        ],
        "attendance": [
            {
                "agency": "Children's social care",
                "name": "Sam Okafor",
                "role": "Social worker",
                "status": "Present",
            },
            {
                "agency": "West Midlands Police",
                "name": "DC Lee Grant",
                "role": "Force CID",
                "status": "Present",
            },
            {"agency": "Locate", "name": "Dana Price", "role": "Missing lead", "status": "Written update"},
            {"agency": "YOS", "name": "Ola Ade", "role": "Case manager", "status": "Apologies"},
            {"agency": "Health", "name": "No one named", "role": "Not recorded", "status": "Did not respond"},
        ],
        "reason": "Three missing episodes in two weeks; found in Stoke with unexplained cash.\n"
        "Mother reports a new older 'friend' collecting him by car.",
        "action_taken": "Return home interview completed by Locate.",
        "information_shared": [
            {
                "agency": "West Midlands Police",
                "author": "DC Lee Grant",
                "role": "Force CID",
                "lawful_basis": "Safeguarding children at risk (DPA 2018 Sch 1 para 18)",
                "handling": POLICE_HANDLING,
                "withheld": withheld,
                "withheld_note": "The full text is withheld from this copy under its handling instruction. "
                "It is in the copies sent to Children's social care, Police and West Midlands Police."
                if withheld
                else "",
                "sections": [] if withheld else police_sections,
            },
            {
                "agency": "Locate",
                "author": "Dana Price",
                "role": "Missing lead",
                "lawful_basis": "Safeguarding children at risk (DPA 2018 Sch 1 para 18)",
                "handling": "",
                "withheld": False,
                "withheld_note": "",
                "sections": [{"label": "Missing episodes", "text": "Three since 14 February."}],
            },
        ],
        "child_voice": "Jayden says he 'just goes out with mates' and does not want police involved.",
        "risk_grid": {
            "agencies": ["West Midlands Police", "Locate"],
            "rows": [
                _grid_row("Repeated missing episodes", current="West Midlands Police, Locate"),
                _grid_row("Excluded from school", historic="Locate", not_known="West Midlands Police"),
                _grid_row("Weapons", not_present="West Midlands Police, Locate"),
            ],
            "summary": "2 current and 1 historic ratings",
        },
        "risk_analysis": {
            "harm": "Criminal exploitation through county lines.",
            "likelihood": "High: pattern is escalating.",
            "protective_factors": "Mother engaged; close to his grandmother.",
            "extra_familial": "Peer group linked to the Northfield park location.",
        },
        "decisions": [
            {
                "topic": "Section 47 enquiries",
                "outcome": "Start section 47 enquiries",
                "reason": "Reasonable cause to suspect harm.",
            },
            {"topic": "Criminal investigation", "outcome": "Yes", "reason": "CID to open an investigation."},
            {"topic": "Medical assessment", "outcome": "No", "reason": "No injuries reported."},
            {"topic": "Legal action", "outcome": "Not recorded", "reason": "None recorded"},
            {"topic": "Parents told of the enquiries", "outcome": "Told", "reason": "At the home visit."},
            {"topic": "Initial child protection conference", "outcome": "Needed", "reason": "None recorded"},
        ],
        "safety_plan": "Mother to report any missing episode at once; school to monitor attendance.",
        "actions": [
            {
                "reference": "SD\u20112025\u20110142\u2011A1",
                "text": "Complete the single assessment.",
                "owner": "Sam Okafor",
                "agency": "Children's social care",
                "due": "11 Mar 2025",
                "priority": "Immediate (safety)",
                "concerns": "CS\u2011778812",
                "status": "open",
            },
        ],
        "icpc_date": "Tuesday 25 March 2025",
        "icpc": "To be held by Tuesday 25 March 2025",
        "section_47": "Started Tuesday 04 March 2025",
        "assessment_deadline": "Friday 02 May 2025",
        "review_date": "Tuesday 18 March 2025",
        "next_steps": "Reconvene after the single assessment.",
        "dissent": "No dissent was recorded.",
        "circulation": [
            {"name": "Priya Shah, Team Manager", "agency": "Chair", "receives": "Full copy"},
            {
                "name": "Sam Okafor, Social worker",
                "agency": "Children's social care",
                "receives": "Full copy",
            },
            {"name": "DC Lee Grant, Force CID", "agency": "West Midlands Police", "receives": "Full copy"},
            {
                "name": "Dr Kim Hart, Named Nurse (agency lead)",
                "agency": "Health",
                "receives": "Copy with restricted information withheld",
            },
        ],
        "copy": "Copy with restricted information withheld" if withheld else "Full copy",
        "changes": "Since version 1 (04 March 2025 12:10): changed Meeting details (end time); Decisions; "
        "Action plan.",
        "version": 2,
        "state": "DRAFT",
        "generated_at": "04 March 2025 14:02",
        "approved_by": "",
        "approved_at": "",
    }


def action_log_specimen() -> dict[str, Any]:
    """Two actions from one discussion: one chased and escalated, one done."""
    return {
        "marking": MARKING,
        "partnership": "Birmingham Safeguarding Children Partnership",
        "reference": "SD\u20112025\u20110142",
        "title": "Action log: strategy discussion SD\u20112025\u20110142",
        "generated_at": "20 March 2025 09:00",
        "version": 3,
        "changes": "Since version 2 (12 March 2025 09:00): 1 done, 1 chased (actions).",
        "actions": [
            {
                "reference": "SD\u20112025\u20110142\u2011A1",
                "text": "Complete the single assessment.",
                "concerns": "CS\u2011778812",
                "owner": "Sam Okafor",
                "agency": "Children's social care",
                "assigned": "04 Mar 2025",
                "due": "11 Mar 2025",
                "completed": "10 Mar 2025 16:00",
                "status": "Done",
                "priority": "High",
                "escalation_level": "Not escalated",
                "evidence": "Assessment uploaded to the case record.",
                "meeting": "SD\u20112025\u20110142",
                "updates": [{"at": "10 Mar 2025 16:00", "by": "Sam Okafor", "text": "Assessment uploaded."}],
                "chases": [],
            },
            {
                "reference": "SD\u20112025\u20110142\u2011A2",
                "text": "Run a disruption plan on the associate.",
                "concerns": "Northfield park",
                "owner": "DC Lee Grant",
                "agency": "West Midlands Police",
                "assigned": "04 Mar 2025",
                "due": "18 Mar 2025",
                "completed": "Not yet",
                "status": "Escalated",
                "priority": "High",
                "escalation_level": "Escalated to the agency lead",
                "evidence": "None yet",
                "meeting": "SD\u20112025\u20110142",
                "updates": [],
                "chases": [
                    {
                        "at": "17 Mar 2025 09:00",
                        "to": "DC Lee Grant",
                        "step": "Reminder",
                        "via": "Slack message",
                    },
                    {
                        "at": "19 Mar 2025 09:00",
                        "to": "DI Ruth Bell",
                        "step": "Escalated to the agency lead",
                        "via": "E-mail",
                    },
                ],
            },
        ],
    }


def _action(
    number: int,
    text: str,
    *,
    carried_from: str = "",
    status: str = "open",
    updates: int = 1,
    concerns: str = "CS\u2011778812",
) -> dict[str, Any]:
    meeting = carried_from or "CEP-2026-0003"
    return {
        "reference": no_break(f"{meeting}-A{number:02d}"),
        "text": references_unbroken(text),
        "concerns": concerns,
        "owner": "DC Lee Grant",
        "agency": "West Midlands Police",
        "assigned": "27 Oct 2026",
        "due": "10 Nov 2026",
        "completed": "",
        "status": status,
        "priority": "High",
        "escalation_level": "Escalated to the agency lead" if carried_from else "Not escalated",
        "evidence": "None yet",
        "meeting": no_break(meeting),
        "carried_forward": bool(carried_from),
        "updates": [
            {
                "at": f"0{u + 2} Nov 2026 09:15",
                "by": "DC Lee Grant",
                "text": f"Visited the address ({u + 1}).",
            }
            for u in range(updates)
        ],
        "chases": [{"at": "09 Nov 2026 09:00", "to": "DC Lee Grant", "step": "reminder", "via": "slack_dm"}]
        if carried_from
        else [],
    }


CARRIED = _action(
    4, "Share the disruption plan for the Northfield park associate.", carried_from="CEP-2026-0002"
)


PANEL_WITHHELD = "Copy with restricted information withheld"
INTELLIGENCE_WITHHELD = (
    "Withheld from this copy by its handling code. It is in the copies sent to "
    "West Midlands Police - Force CID, West Midlands Police - Public Protection Unit."
)


def panel_minutes_specimen(*, withheld: bool = False) -> dict[str, Any]:
    """A sitting that reviews a child (stepped up, NRM referral), a location and a peer group;
    `withheld` gives the copy for an agency not entitled to the police's restricted text."""
    police_update = {
        "agency": "West Midlands Police",
        "author": "DC Lee Grant",
        "role": "Force CID",
        "late": False,
        "restricted": True,
        "restriction": "Police information: not to be shared with the family",
        "withheld": withheld,
        "withheld_note": (
            "The full text is withheld from this copy under its handling instruction. It is in "
            "the copies sent to Children's social care, Police and West Midlands Police."
            if withheld
            else ""
        ),
        "current_risks": "Repeated missing episodes, Weapons",
        "sections": []
        if withheld
        else [{"label": "Police intelligence", "text": "Seen with a known county lines associate."}],
    }
    return {
        "marking": MARKING,
        "confidentiality": CONFIDENTIALITY,
        "partnership": "Birmingham Safeguarding Children Partnership",
        "panel": "Criminal Exploitation Panel (North)",
        "reference": "CEP\u20112026\u20110003",  # as the code gives it: never split
        "date": "Tuesday 24 November 2026",
        "time": "10:00",
        "chair": "Priya Shah, Head of Service",
        "minute_taker": "Tom Reed",
        "version": 2,
        "state": "DRAFT",
        "copy": PANEL_WITHHELD if withheld else "Full copy",
        "changes": "Since version 1 (24 November 2026 12:45): changed Attendance; case CS-778812 "
        "(decision, next review); Action log.",
        "generated_at": "24 November 2026 at 14:02",
        "approved_by": "",
        "approved_at": "",
        "attendance": [
            {"agency": "Children's social care", "name": "Priya Shah", "role": "Chair", "status": "Present"},
            {
                "agency": "West Midlands Police",
                "name": "DC Lee Grant",
                "role": "Force CID",
                "status": "Present",
            },
            {
                "agency": "Youth Justice Service",
                "name": "Ana Costa",
                "role": "Case manager",
                "status": "Apologies",
            },
        ],
        "actions_from_last_time": [CARRIED],
        "cases": [
            {
                "number": 1,
                "reference": "CS-778812",
                "subject": "Child",
                "name": "Jayden Miller",
                "date_of_birth": "12 June 2010",
                "section": "New referral",
                "risk_level": "High",
                "screening_result": "Significant risk of criminal exploitation",
                "plan_status": "Child protection plan",
                "reasons": "Three missing episodes since October; found in Stoke with cash.",
                "updates": [
                    police_update,
                    {
                        "agency": "Northfield Academy",
                        "author": "Jo Patel",
                        "role": "Designated safeguarding lead",
                        "late": True,
                        "restricted": False,
                        "restriction": "",
                        "withheld": False,
                        "withheld_note": "",
                        "current_risks": "",
                        "sections": [
                            {"label": "School attendance", "text": "Attendance 71% this term."},
                            {"label": "Views of the child and family", "text": "Mother is frightened."},
                        ],
                    },
                ],
                "victims": "Jayden is groomed to carry drugs out of area.",
                "offenders": "Adult male known as 'T', 19, drives a grey Audi.",
                "locations": "Northfield park; a flat on Bristol Road.",
                "themes": "Out-of-area drug running on school days.",
                "decision": "Step up",
                "leads_to": "Strategy discussion (section 47); strategy discussion SD-2026-0042 convened",
                "missing": [
                    "Missing from 12 Dec 2026 18:00 to 13 Dec 2026 09:30; where found: Coventry "
                    "(out of area)."
                ],
                "decision_reason": "Risk has risen since the last review.",
                "nrm": "NRM referral made by children's social care on 20 November 2026",
                "disruption": "Child abduction warning notice to 'T'.",
                "next_review": "Tuesday 22 December 2026",
                "links": [{"kind": "Location", "label": "Northfield park"}],
                "discussion": "SD\u20112026\u20110142 (04 March 2026); ICPC held 25 March 2026",
                "actions": [
                    "CEP\u20112026\u20110003\u2011A01: Visit the address (DC Lee Grant, due 10 Nov, Open)"
                ],
            },
            {
                "number": 2,
                "reference": "CX-000045",
                "subject": "Location",
                "name": "Northfield park",
                "date_of_birth": "",
                "section": "Under review",
                "risk_level": "Medium",
                "screening_result": "Location of concern",
                "plan_status": "Disruption plan",
                "reasons": "Used to recruit children after school.",
                "updates": [],
                "victims": "Two children seen there after dark.",
                "offenders": "",
                "locations": "The skate park and the car park behind it.",
                "themes": "",
                "decision": "Step down",
                "leads_to": "Team around the school; taken on by Ms Khan, Education",
                "missing": [],
                "decision_reason": "No sightings for six weeks after patrols.",
                "nrm": "",
                "disruption": "",
                "next_review": "Tuesday 26 January 2027",
                "links": [],
                "discussion": "No strategy discussion recorded",
                "actions": ["No actions were agreed for this case."],
            },
            {
                "number": 3,
                "reference": "CX-000046",
                "subject": "Peer group",
                "name": "The Bristol Road group",
                "date_of_birth": "",
                "section": "Under review",
                "risk_level": "High",
                "screening_result": "Peer group of concern",
                "plan_status": "Contextual safeguarding plan",
                "reasons": "Older members recruit younger children.",
                "updates": [],
                "victims": "Jayden Miller.",
                "offenders": "Two older members.",
                "locations": "Bristol Road.",
                "themes": "Recruitment through social media.",
                "decision": "Continue under review",
                "leads_to": "",
                "missing": [],
                "decision_reason": "Work with the group has only just started.",
                "nrm": "",
                "disruption": "Detached youth work on Friday evenings.",
                "next_review": "Tuesday 22 December 2026",
                "links": [{"kind": "Child", "label": "CS-778812"}],
                "discussion": "Not applicable",
                "actions": ["No actions were agreed for this case."],
            },
        ],
        "perpetrators": [{"label": "'T', adult male, 19", "linked": "CS-778812, CX-000046"}],
        "locations": [{"label": "Northfield park", "linked": "CS-778812, CX-000045"}],
        "peer_groups": [{"label": "The Bristol Road group", "linked": "CS-778812, CX-000046"}],
        "themes": "A rise in recruitment through social media across the north of the city.",
        "network_picture": "",
        "network_note": NOTE,
        "actions": [
            CARRIED,
            _action(1, "Make the NRM referral for CS-778812.", status="done", updates=3),
            _action(
                2,
                "Patrol Northfield park after school for four weeks.",
                updates=0,
                concerns="CS\u2011778812, CX\u2011000045",
            ),
        ],
        "next_panel": "Tuesday 22 December 2026",
        "register": [
            {
                "reference": "SP-2026-0003",
                "summary": "Adult male, 19, known as 'T'; a child abduction warning notice was served.",
                "linked": "CS-778812",
            }
        ],
        "disruptions": [
            {
                "reference": "CEP-2026-0003-A03",
                "case": "CS-778812",
                "tactic": "Child abduction warning notice",
                "text": "Disruption: Child abduction warning notice (SP-2026-0003)",
                "due": "01 Dec 2026",
                "status": "open",
            }
        ],
        "intelligence": [
            {
                "handling_code": "P: may be shared with partner agencies",
                "text": "Dealing moved to the canal path.",
            },
            {
                "handling_code": "4: police only",
                "text": INTELLIGENCE_WITHHELD
                if withheld
                else "T uses a grey Audi from the Lodge Road garage.",
            },
        ],
        "circulation": [
            {"name": "Priya Shah, Head of Service", "agency": "Chair", "receives": "Full copy"},
            {"name": "DC Lee Grant, Force CID", "agency": "West Midlands Police", "receives": "Full copy"},
            {
                "name": "Ana Costa, Case manager",
                "agency": "Youth Justice Service",
                "receives": PANEL_WITHHELD,
            },
        ],
    }


def panel_agenda_specimen() -> dict[str, Any]:
    """The agenda of the same sitting, moved off a bank holiday."""
    sections = [
        ("Attendance and confidentiality", "Attendance and confidentiality", 5, "", "", ""),
        ("Actions from last time", "Actions from last time (1 open)", 5, "", "", ""),
        (
            "New referrals",
            "CS\u2011778812: Jayden Miller, born 12 June 2010",
            20,
            "High",
            "Significant risk (screening tool)",
            "Not recorded",
        ),
        (
            "Children under review",
            "CS\u2011660021: Amara Test-Child, born 14 March 2011",
            15,
            "Medium",
            "Moderate risk (screening tool)",
            "Child in need",
        ),
        (
            "Locations",
            "CX\u2011000045: Northfield park",
            10,
            "Medium",
            "Significant risk (screening tool)",
            "Not applicable",
        ),
        ("Themes and intelligence", "Themes and intelligence", 10, "", "", ""),
    ]
    starts = ["10:00", "10:05", "10:10", "10:30", "10:45", "10:55"]
    return {
        "chair": "Priya Shah, Head of Service",
        "venue": "Room 2.14, Lancaster Circus, Birmingham B4 7DJ",
        "joining_link": "Teams meeting link in the calendar invitation",
        "invitees": [
            {"agency": "Children's social care", "people": "Sam Okafor, Social Worker"},
            {"agency": "West Midlands Police", "people": "DC Lee Grant, Force CID"},
        ],
        "next_date": "Tuesday 08 December 2026",
        "marking": MARKING,
        "confidentiality": CONFIDENTIALITY,
        "partnership": "Birmingham Safeguarding Children Partnership",
        "panel": "Criminal Exploitation Panel (North)",
        "reference": "CEP\u20112026\u20110003",  # as the code gives it: never split
        "date": "Tuesday 29 December 2026",
        "time": "10:00",
        "moved_note": "Moved from Monday 28 December 2026 (bank holiday) to the next working day.",
        "referral_cutoff": "Monday 21 December 2026 at 17:00",
        "updates_cutoff": "Wednesday 23 December 2026 at 17:00",
        "generated_at": "22 December 2026 at 09:00",
        "version": 2,
        "changes": "Since version 1 (21 December 2026 17:00): changed item CS-660021: Amara Test-Child, "
        "born 14 March 2011 (risk level); Missing episodes and return home interviews.",
        "items": [
            {
                "number": n + 1,
                "starts": starts[n],
                "minutes": minutes,
                "section": section,
                "title": title,
                "risk_level": risk,
                "screening_result": screening,
                "plan_status": plan,
                "why": "review due 29 Dec 2026" if risk else "",
            }
            for n, (section, title, minutes, risk, screening, plan) in enumerate(sections)
        ],
        "not_for_discussion": "CS-551234, CS-551235",
        "missing_episodes": [
            {
                "reference": "CS-778812",
                "episode": "Missing from 12 Dec 2026 18:00 to 13 Dec 2026 09:30; where found: Coventry (out "
                "of area). Return home interview offered 14 Dec 2026 10:00 (within the timescale) by "
                "Locate: done.",
            }
        ],
        "actions_from_last_time": [CARRIED],
        "perpetrators": [{"label": "'T', adult male, 19", "linked": "CS-778812"}],
        "locations": [{"label": "Northfield park", "linked": "CS-778812, CX-000045"}],
        "peer_groups": [],
    }
