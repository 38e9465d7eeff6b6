"""`panel_practice.yaml`: where the panel's decisions lead and what its records hold, in the
partnership's words (step-up and step-down destinations, which risk levels each decision
fits, the NRM timescales, intelligence handling codes, disruption tactics, missing-episode
timescales). Kept apart from `models.py` because only the panel reads it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

RiskLevel = Literal["high", "medium", "low"]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=75)]
MAX_OPTIONS = 100
"""A Slack select offers at most 100 options."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepUp(_Model):
    code: Code
    name: Name
    convenes: Literal["strategy_discussion"] | None = None
    # The record a step up links: the child's conference (booked by `led_by`'s lead and
    # chased until booked) or a police operation (recorded by `led_by`'s people).
    links: Literal["conference", "police_operation"] | None = None
    led_by: Code | None = None

    @model_validator(mode="after")
    def _led(self) -> StepUp:
        if self.links and not self.led_by:
            raise ValueError(
                f"step up {self.code!r} links a {self.links}: name the agency leading it (led_by)"
            )
        return self


class StepDown(_Model):
    code: Code
    name: Name
    taken_by: Code | None = None


class DecisionFit(_Model):
    """The risk levels a decision fits and the words that contradict it."""

    fits_risk: tuple[RiskLevel, ...] = Field(min_length=1)
    contradicted_by: tuple[Annotated[str, StringConstraints(strip_whitespace=True, min_length=3)], ...] = ()


class Decisions(_Model):
    step_up: DecisionFit
    continue_: DecisionFit = Field(alias="continue")
    step_down: DecisionFit

    def of(self, decision: str) -> DecisionFit | None:
        return {"step_up": self.step_up, "continue": self.continue_, "step_down": self.step_down}.get(
            decision
        )


class NrmPractice(_Model):
    first_responder_agencies: tuple[Code, ...] = Field(min_length=1)
    reasonable_grounds_working_days: Annotated[int, Field(gt=0, le=100)] = 5
    conclusive_grounds_working_days: Annotated[int, Field(gt=0, le=400)] = 45


class HandlingCode(_Model):
    code: Code
    name: Name
    released_to: tuple[Code, ...] = Field(min_length=1)

    def released_to_all(self) -> bool:
        return "all" in self.released_to


class Tactic(_Model):
    code: Code
    name: Name


class MissingPractice(_Model):
    recorded_by: tuple[Code, ...] = Field(default=("locate",), min_length=1)
    interview_agency: Code = "locate"
    return_interview_hours: Annotated[int, Field(gt=0, le=24 * 14)] = 72
    chase_every_hours: Annotated[int, Field(gt=0, le=24 * 7)] = 24
    repeated_episodes: Annotated[int, Field(gt=1, le=50)] = 3
    repeated_within_days: Annotated[int, Field(gt=0, le=366)] = 90


def _unique(entries: tuple[_Model, ...]) -> tuple[_Model, ...]:
    codes = [getattr(e, "code") for e in entries]  # noqa: B009
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise ValueError(f"code {twice[0]!r} is listed twice")
    if len(entries) > MAX_OPTIONS:
        raise ValueError(f"lists {len(entries)} entries; a Slack menu offers at most {MAX_OPTIONS}")
    return entries


class PanelPractice(_Model):
    """All of `panel_practice.yaml`."""

    step_up: tuple[StepUp, ...] = Field(min_length=1)
    step_down: tuple[StepDown, ...] = Field(min_length=1)
    decisions: Decisions
    nrm: NrmPractice
    handling_codes: tuple[HandlingCode, ...] = Field(min_length=1)
    disruption_tactics: tuple[Tactic, ...] = Field(min_length=1)
    missing: MissingPractice = MissingPractice()
    pending_referrals_chase_working_days: Annotated[int, Field(ge=0, le=20)] = 1

    _codes: dict[str, HandlingCode] = PrivateAttr(default_factory=dict)

    _check_step_up = field_validator("step_up")(classmethod(lambda cls, v: _unique(v)))
    _check_step_down = field_validator("step_down")(classmethod(lambda cls, v: _unique(v)))
    _check_codes = field_validator("handling_codes")(classmethod(lambda cls, v: _unique(v)))
    _check_tactics = field_validator("disruption_tactics")(classmethod(lambda cls, v: _unique(v)))

    def model_post_init(self, context: object, /) -> None:
        self._codes = {c.code: c for c in self.handling_codes}

    def handling_code(self, code: str) -> HandlingCode | None:
        return self._codes.get(code)

    def step_up_named(self, code: str) -> StepUp | None:
        return next((s for s in self.step_up if s.code == code), None)

    def step_down_named(self, code: str) -> StepDown | None:
        return next((s for s in self.step_down if s.code == code), None)

    def tactic_name(self, code: str) -> str:
        return next((t.name for t in self.disruption_tactics if t.code == code), code)
