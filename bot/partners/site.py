"""The partner pages as a Flask app, on which `bot.web` mounts Slack's endpoint (one WSGI app).

GOV.UK Frontend's templates (`govuk-frontend-jinja`) and form widgets (`govuk-frontend-wtf`),
its styles and scripts from `bot/partners/static` (installed from the npm package by
`scripts/frontend`, never fetched at run time). Flask-WTF checks a CSRF token on every form.
Every response carries the security headers: a strict Content Security Policy (scripts
only from the bot, the one inline script with a nonce), HSTS, no framing, a same-origin
referrer policy (a link's token never leaks to another site) and no caching of pages.
Behind a balancer, WEB_TRUSTED_PROXIES says how many proxies' X-Forwarded-For to trust for
the client address the rate limits count.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from bot.runtime import Runtime

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SERVICE_NAME = "Safeguarding partnership"
COOKIE = "partner_session"


def security_headers(response: Response) -> Response:
    """Every response's security headers (pages, Slack's endpoint, the health checks)."""
    nonce = getattr(g, "csp_nonce", "")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
    response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Same-origin only: a link's token never reaches another site, and Flask-WTF's HTTPS
    # check still sees the referrer of the bot's own forms.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if not request.path.startswith("/assets/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def build_site(runtime: Runtime) -> Flask:
    """The Flask app for the partner pages (and, in `bot.partners.desk`, the desk)."""
    from bot.access import Rules
    from bot.partners import desk, guard, minutes_page, pages, update_page

    settings = runtime.settings
    app = Flask(
        __name__,
        static_folder=str(STATIC),
        static_url_path="/assets",
    )
    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("bot.partners"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.config.update(
        SECRET_KEY=settings.site_secret,
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.web_cookie_secure,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=runtime.partnership.settings.partner_session_minutes),
        WTF_CSRF_TIME_LIMIT=3600,
        WTF_CSRF_SSL_STRICT=settings.web_cookie_secure,
        MAX_CONTENT_LENGTH=200_000,
    )
    app.extensions["runtime"] = runtime
    app.extensions["partner_throttles"] = guard.throttles(runtime.engine)
    app.extensions["partner_rules"] = Rules.of(pages, update_page, minutes_page, desk)
    CSRFProtect(app)
    WTFormsHelpers(app)

    @app.before_request
    def _nonce() -> None:
        g.csp_nonce = secrets.token_urlsafe(16)

    @app.context_processor
    def _common() -> dict[str, Any]:
        return {
            "cspNonce": g.get("csp_nonce", ""),
            "marking": runtime.partnership.settings.protective_marking,
            "partnership_name": runtime.partnership.settings.name,
            "serviceName": SERVICE_NAME,
        }

    app.after_request(security_headers)

    @app.errorhandler(CSRFError)
    def _csrf(_error: CSRFError) -> tuple[str, int]:
        log.info("refused a partner form without a valid CSRF token", extra={"event": "partners.csrf"})
        return render_template(
            "partners/problem.html",
            title="Your form has expired",
            message="For your security, the form could not be sent. Go back, reload the page and try again.",
        ), 400

    @app.errorhandler(404)
    def _missing(_error: Exception) -> tuple[str, int]:
        return render_template(
            "partners/problem.html", title="Page not found", message="There is no page at this address."
        ), 404

    @app.errorhandler(413)
    def _large(_error: Exception) -> tuple[str, int]:
        return render_template(
            "partners/problem.html",
            title="Too much was sent",
            message="Shorten what you wrote and try again.",
        ), 413

    if settings.web_trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxied = ProxyFix(
            app.wsgi_app, x_for=settings.web_trusted_proxies, x_proto=settings.web_trusted_proxies
        )
        app.wsgi_app = proxied  # type: ignore[method-assign]
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(update_page.blueprint)
    app.register_blueprint(minutes_page.blueprint)
    app.register_blueprint(desk.blueprint)
    return app
