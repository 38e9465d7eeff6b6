"""The administrators' desk (filled in below); its rules join the partner pages' rules."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("desk", __name__)
RULES: tuple = ()


@blueprint.route("/desk/")
def home() -> str:
    return "desk"
