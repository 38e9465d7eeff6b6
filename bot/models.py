"""Every table, imported in one place so Alembic and tests see the whole schema."""

from sqlmodel import SQLModel

from bot.actions.models import Action, ActionEvent, Chase
from bot.agency_updates.models import AgencyUpdate, AgencyUpdateVersion
from bot.audit.models import AuditEntry, AuditHead
from bot.cases.models import Case, CaseEpisode, Section47Enquiry
from bot.children.models import DiscussionChild, Household
from bot.convening.models import Attendance, Invitation, InvitationMessage, Meeting
from bot.delivery.models import OutboxMessage
from bot.minutes.models import Decision, Document
from bot.panel.models import AgendaItem, NetworkLink, PanelCase, PanelSitting, Referral
from bot.partners.models import PartnerLink, PartnerSession, PartnerTry
from bot.partnership.models import Agency, Person, PersonRole
from bot.periodic.models import PeriodicJob
from bot.references import ReferenceCounter

metadata = SQLModel.metadata

__all__ = [
    "Action",
    "ActionEvent",
    "Agency",
    "AgencyUpdate",
    "AgencyUpdateVersion",
    "AgendaItem",
    "Attendance",
    "AuditEntry",
    "AuditHead",
    "Case",
    "CaseEpisode",
    "Chase",
    "Decision",
    "DiscussionChild",
    "Document",
    "Household",
    "Invitation",
    "InvitationMessage",
    "Meeting",
    "NetworkLink",
    "OutboxMessage",
    "PanelCase",
    "PanelSitting",
    "PartnerLink",
    "PartnerSession",
    "PartnerTry",
    "PeriodicJob",
    "Person",
    "PersonRole",
    "ReferenceCounter",
    "Referral",
    "Section47Enquiry",
    "metadata",
]
