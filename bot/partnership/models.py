"""Agencies and people as stored; `schedules/agencies.yaml` is their source and is synced in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.database import UTCDateTime, utcnow_column_default


class Agency(SQLModel, table=True):
    """A partner agency (children's social care, police Force CID, Locate, YOS, health...)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    active: bool = True


class Person(SQLModel, table=True):
    """Someone who acts for an agency; a contact may have no Slack account yet."""

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    schedule_id: str | None = Field(default=None, max_length=80, unique=True)  # id in agencies.yaml
    name: str = Field(max_length=200)
    role_title: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320, index=True)
    slack_user_id: str | None = Field(default=None, max_length=32, unique=True, index=True)
    active: bool = True
    updated_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class PersonRole(SQLModel, table=True):
    """A role a person holds (convenor, chair, minute_taker, agency_lead, panel_admin...)."""

    __table_args__ = (UniqueConstraint("person_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=40, index=True)
