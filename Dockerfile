# The bot as a container: the wheel built in one stage, installed into a clean image in the
# next, run as an unprivileged user. Build from the repository root:
#     docker build -t safeguarding-panel-bot .
# It works on a clean clone: the partner pages' GOV.UK Frontend assets, which the repository
# does not keep, are fetched from npm in a stage of their own (the build context's copy, if
# any, is left out by .dockerignore, so every image has the pinned version).
# The steps are scripts/frontend, scripts/package and scripts/install-package, the very
# commands CI runs (.ci/run: scripts/check-package fetches the assets on its fresh clone,
# builds the wheel, installs it in a fresh environment outside the repository and starts it,
# and fails if this file stops running any of them), so a green CI proves these steps.

FROM node:20-bookworm-slim AS frontend
WORKDIR /src
COPY scripts/frontend ./scripts/
RUN bash scripts/frontend

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY --from=frontend /src/bot/partners/static/ ./bot/partners/static/
COPY schedules ./schedules
COPY templates ./templates
COPY scripts/package scripts/frontend ./scripts/
RUN bash scripts/package /src/dist

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/bot/bin:$PATH \
    HOST=0.0.0.0 \
    PORT=3000
COPY requirements/main.lock /tmp/install/requirements/main.lock
COPY scripts/install-package /tmp/install/scripts/install-package
COPY --from=build /src/dist /tmp/install/dist
RUN bash /tmp/install/scripts/install-package /opt/bot /tmp/install/dist /tmp/install/requirements/main.lock \
    && rm -rf /tmp/install \
    && useradd --system --uid 10001 --user-group --home-dir /srv/bot --create-home bot
# The working directory holds .env (if mounted) and, without DATABASE_URL, the SQLite file
# (data/bot.sqlite3). Production sets DATABASE_URL to PostgreSQL (see compose.yaml).
WORKDIR /srv/bot
USER bot
EXPOSE 3000
# Readiness: the database answers, migrations are at head, Slack answers auth.test and the
# scheduler runs (python -m bot health asks /healthz/ready on $PORT).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "health"]
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
