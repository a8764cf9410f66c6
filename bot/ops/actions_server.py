"""The action server: rasa_sdk serving the `actions` package, closed to all but Rasa (safety rule S3).

- Every log record is redacted: rasa_sdk and Sanic configure their log handlers inside their own main, after any
  code of ours could add a filter, and an action's failure can put a user's words into an exception message. So
  the redaction sits in the log record factory, which every record of the process passes through.
- It listens on loopback unless given another address (`--host`, or SANIC_HOST, e.g. a private interface).
- Every request but `GET /health` must carry the shared secret that Rasa sends (PERHEOPAS_ACTIONS_TOKEN, in the
  header ACTIONS_TOKEN_HEADER set in endpoints.yml): whoever else reaches the port could otherwise post a forged
  tracker and store contact requests. The check is a rasa_sdk plugin (its `attach_sanic_app_extensions` hook).
"""

from __future__ import annotations

import hmac
import os
import sys
from typing import Any

import pluggy

from bot.safety.danger import default_patterns
from bot.safety.redact import install_record_redaction

ACTIONS_PACKAGE = "actions"
ACTIONS_TOKEN_ENV = "PERHEOPAS_ACTIONS_TOKEN"
ACTIONS_TOKEN_HEADER = "X-Perheopas-Actions-Token"
MIN_TOKEN_CHARS = 24
OPEN_PATHS = frozenset({"/health"})
DEFAULT_HOST = "127.0.0.1"


def token_problem(token: str | None) -> str | None:
    """Why a shared secret is unusable, or None."""
    if not token or len(token.strip()) < MIN_TOKEN_CHARS:
        return f"{ACTIONS_TOKEN_ENV} must be set to a secret of at least {MIN_TOKEN_CHARS} characters"
    return None


def allowed(path: str, presented: str | None, token: str) -> bool:
    """Whether a request may reach the actions: the health check always, the rest with the right secret."""
    if path in OPEN_PATHS:
        return True
    return presented is not None and hmac.compare_digest(presented.encode(), token.encode())


class TokenCheck:
    """A rasa_sdk plugin that refuses every request without the shared secret before an action runs."""

    hookimpl = pluggy.HookimplMarker("rasa_sdk")

    def __init__(self, token: str) -> None:
        self.token = token

    @hookimpl
    def attach_sanic_app_extensions(self, app: Any) -> None:
        from sanic.response import json as json_response

        token = self.token

        @app.on_request
        async def require_token(request: Any) -> Any:
            if not allowed(request.path, request.headers.get(ACTIONS_TOKEN_HEADER), token):
                return json_response({"error": "forbidden"}, status=403)
            return None


def serve(port: int, host: str | None = None) -> None:
    """Serve until stopped, as `python -m rasa_sdk --actions actions --port PORT` does, closed as above."""
    from rasa_sdk.__main__ import main_from_args
    from rasa_sdk.endpoint import create_argument_parser
    from rasa_sdk.plugin import plugin_manager

    token = os.environ.get(ACTIONS_TOKEN_ENV, "")
    problem = token_problem(token)
    if problem:
        sys.exit(f"Action server not started: {problem} (the same value Rasa's endpoints.yml sends).")
    os.environ["SANIC_HOST"] = host or os.environ.get("SANIC_HOST") or DEFAULT_HOST
    install_record_redaction()
    default_patterns()  # compiled now, not on the first parent's message that needs them (about a second)
    plugin_manager().register(TokenCheck(token.strip()))
    main_from_args(create_argument_parser().parse_args(["--actions", ACTIONS_PACKAGE, "--port", str(port)]))
