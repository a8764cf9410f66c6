"""The action server: rasa_sdk serving the `actions` package, with every log record redacted (safety rule S3).

rasa_sdk and Sanic configure their log handlers inside their own main, after any code of ours could add a filter,
and an action's failure can put a user's words into an exception message. So the redaction sits in the log record
factory, which every record of the process passes through, whatever handlers are set up later.
"""

from __future__ import annotations

from bot.safety.danger import default_patterns
from bot.safety.redact import install_record_redaction

ACTIONS_PACKAGE = "actions"


def serve(port: int) -> None:
    """Serve until stopped, as `python -m rasa_sdk --actions actions --port PORT` does, with redacted logs."""
    from rasa_sdk.__main__ import main_from_args
    from rasa_sdk.endpoint import create_argument_parser

    install_record_redaction()
    default_patterns()  # compiled now, not on the first parent's message that needs them (about a second)
    main_from_args(create_argument_parser().parse_args(["--actions", ACTIONS_PACKAGE, "--port", str(port)]))
