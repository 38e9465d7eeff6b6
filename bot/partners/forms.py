"""The partner pages' forms: WTForms fields drawn by GOV.UK Frontend's widgets.

Fields carry no validators of their own: each form is checked by the same service functions
the Slack forms use (`bot.convening.service`, `bot.actions.service`), so the pages say the
same thing, in the same words, as Slack does; the page shows it beside the field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
)
from wtforms import DateField, RadioField, SelectField, SubmitField, TextAreaField

ANSWERS = (
    ("attending", "We will attend"),
    ("delegate", "Someone else from my agency will attend"),
    ("written_update", "We cannot attend: we will send a written update"),
    ("declined", "We cannot take part"),
)


class ContinueForm(FlaskForm):
    """The one button that uses a link (a POST, so mail scanners that open links do not)."""

    submit = SubmitField("Continue", widget=GovSubmitInput())


class InvitationForm(FlaskForm):
    answer = RadioField(
        "Your agency's answer", choices=list(ANSWERS), validate_choice=False, widget=GovRadioInput()
    )
    delegate = SelectField(
        "Who will attend instead",
        description="Only if someone else from your agency will attend.",
        choices=[],
        validate_choice=False,
        widget=GovSelect(),
    )
    reason = TextAreaField(
        "Why your agency cannot take part",
        description="Only if you cannot take part. Use case references only, never a child's name.",
        widget=GovTextArea(),
    )
    submit = SubmitField("Send answer", widget=GovSubmitInput())


class DoneForm(FlaskForm):
    note = TextAreaField(
        "What was done",
        description="Say briefly what was done. Use case references only, never a child's name.",
        widget=GovTextArea(),
    )
    submit = SubmitField("Mark as done", widget=GovSubmitInput())


class ExtensionForm(FlaskForm):
    due_on = DateField(
        "New due date", description="For example, 27 3 2027", format="%d %m %Y", widget=GovDateInput()
    )
    reason = TextAreaField("Why you need more time", widget=GovTextArea())
    submit = SubmitField("Ask the chair", widget=GovSubmitInput())


class SignOutForm(FlaskForm):
    submit = SubmitField("Sign out", widget=GovSubmitInput())
