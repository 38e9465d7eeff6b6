"""bench_ack under production's server: the bot as `python -m bot run` (a gunicorn master
and `HTTP_WORKERS` pre-forked workers, `bot.serving`) and the bare Bolt app under the same
gunicorn configuration (the same worker count, worker class and threads per worker), each
in its own process tree, both calling the local Slack over HTTP.

    python -m tests.benchmarks.ack_processes bare --port P --workers N --threads T --api-url URL

serves the bare app (what `bench_ack --server gunicorn` starts for its baseline).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot_offline.driver import BOT_TOKEN, SIGNING_SECRET
from bot_offline.local_slack import LocalSlack, SignedSlackClient

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f} s")


@contextmanager
def _process(argv: list[str], env: dict[str, str], ready_url: str, cwd: Path) -> Iterator[None]:
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            try:
                wait_ready(ready_url, process)
            except RuntimeError:
                log.seek(0)
                print(log.read()[-3000:], file=sys.stderr)
                raise
            yield
        finally:
            process.terminate()  # gunicorn's master stops its workers gracefully
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class GunicornBot:
    """`python -m bot run` with `workers` pre-forked workers, as deployed; what bench_ack
    needs of it: its events URL, the local Slack, a settle between phases."""

    def __init__(self, local_slack: LocalSlack, database_url: str, workers: int, work_dir: Path) -> None:
        self.local_slack = local_slack
        self.database_url = database_url
        self.workers = workers
        self.work_dir = work_dir
        self.port = free_port()
        self.events_url = f"http://127.0.0.1:{self.port}/slack/events"
        self._context: Any = None

    def environment(self) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.local_slack.api_url,
            "DATABASE_URL": self.database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "HTTP_WORKERS": str(self.workers),
            "LOG_LEVEL": "WARNING",
        }

    def __enter__(self) -> GunicornBot:
        from bot.schedules import load_partnership
        from bot.settings import load_settings

        # Slack knows the partnership's members (invitations are DMs to them), as
        # OfflineBot registers them with its local Slack.
        schedules = load_settings(
            slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, database_url=self.database_url
        ).schedules_dir
        for person in load_partnership(schedules).people():
            if person.slack_user_id:
                self.local_slack.add_user(person.slack_user_id, person.name, email=person.email)
        self._context = _process(
            [sys.executable, "-m", "bot", "run"],
            self.environment(),
            f"http://127.0.0.1:{self.port}/healthz/ready",
            self.work_dir,
        )
        self._context.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._context.__exit__(*exc_info)

    def settle(self, quiet_seconds: float = 1.5, timeout: float = 300) -> None:
        """The work the bot handed over after its acks (convening: invitations, messages)
        is done when the local Slack has heard nothing from it for a while."""
        deadline = time.monotonic() + timeout
        seen, since = len(self.local_slack.calls), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = len(self.local_slack.calls)
            if now != seen:
                seen, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet_seconds:
                return

    def open_form(self, user_id: str, text: str = "CS-1234567") -> dict[str, Any]:
        """Type `/strategy new` and return the modal the bot asked Slack to open."""
        before = len(self.local_slack.calls_to("views.open"))
        slack = SignedSlackClient(self.events_url, SIGNING_SECRET, self.local_slack)
        assert slack.command("/strategy", f"new {text}", user_id=user_id).status == 200
        self.local_slack.wait_for(
            lambda _c: len(self.local_slack.calls_to("views.open")) > before, timeout=30
        )
        return dict(self.local_slack.calls_to("views.open")[-1].response["view"])


class GunicornBare:
    """The bare Bolt app (listeners that only `ack()`) under gunicorn, configured like the bot."""

    def __init__(self, api_url: str, workers: int, threads: int, work_dir: Path) -> None:
        self.port = free_port()
        self.events_url = f"http://127.0.0.1:{self.port}/slack/events"
        argv = [sys.executable, "-m", "tests.benchmarks.ack_processes", "bare"]
        argv += ["--port", str(self.port), "--workers", str(workers), "--threads", str(threads)]
        argv += ["--api-url", api_url]
        self._context = _process(
            argv,
            {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "offline")])},
            f"http://127.0.0.1:{self.port}/healthz/live",
            work_dir,
        )

    def __enter__(self) -> GunicornBare:
        self._context.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._context.__exit__(*exc_info)


def _serve_bare(port: int, workers: int, threads: int, api_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from gunicorn.app.base import BaseApplication

    from bot.settings import Settings
    from tests.benchmarks.support import bare_web_app

    listener_threads = Settings.model_fields["listener_threads"].default

    class BareWorkers(BaseApplication):
        def load_config(self) -> None:
            for name, value in {
                "bind": [f"127.0.0.1:{port}"],
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "accesslog": None,
                "loglevel": "warning",
                "graceful_timeout": 30,
                "timeout": 60,
            }.items():
                self.cfg.set(name, value)

        def load(self) -> Any:  # in each worker, after the fork, as the bot's workers do
            executor = ThreadPoolExecutor(listener_threads, thread_name_prefix="bare-listener")
            return bare_web_app(SIGNING_SECRET, BOT_TOKEN, api_url, executor)

    BareWorkers().run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("what", choices=("bare",))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--api-url", required=True)
    args = parser.parse_args(argv)
    _serve_bare(args.port, args.workers, args.threads, args.api_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
