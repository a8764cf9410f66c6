"""Rasa's own command line with our speed-ups: the one way this project starts Rasa (`python -m bot.rasa_ext run ...`).

The stack (bot/ops/run.py) serves Rasa this way, and commands such as

    .venv/bin/python -m bot.rasa_ext test core --stories tests/stories --model models/perheopas.tar.gz

load the model and predict as the served Rasa does. The speed-ups are applied here, once, before Rasa imports the
model (bot/rasa_ext/speedups.py; PERHEOPAS_RASA_SPEEDUPS=off turns them off), and Rasa's structured logs are made to
withhold message texts (bot/rasa_ext/log_privacy.py). Before serving, the tracker store that the endpoints file
names must be importable: Rasa would otherwise serve from memory with one warning.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import yaml

from bot.rasa_ext import log_privacy, speedups

DEFAULT_ENDPOINTS = "endpoints.yml"


def _option(argv: list[str], name: str, default: str | None = None) -> str | None:
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


def tracker_store_problem(endpoints_file: Path) -> str | None:
    """Why the tracker store that an endpoints file names cannot be loaded, or None when it can (or none is named)."""
    if not endpoints_file.is_file():
        return None
    config = yaml.safe_load(endpoints_file.read_text(encoding="utf-8")) or {}
    store_type = str((config.get("tracker_store") or {}).get("type") or "")
    if "." not in store_type:
        return None  # one of Rasa's own stores, by its short name
    from rasa.shared.utils.common import class_from_module_path

    try:
        class_from_module_path(store_type)
    except (ImportError, AttributeError) as error:
        return f"tracker store {store_type!r} in {endpoints_file} cannot be imported ({error})"
    return None


def _log_to_stderr() -> None:
    """Show the speed-ups' outcome: Rasa configures logging only later, in its own main."""
    logger = logging.getLogger(speedups.log.name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(name)s - %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        log_privacy.install()
    except log_privacy.LogPrivacyError as error:
        sys.exit(f"Rasa not started: {error}")
    if args[:1] == ["run"]:
        problem = tracker_store_problem(Path(_option(args, "--endpoints", DEFAULT_ENDPOINTS) or DEFAULT_ENDPOINTS))
        if problem:
            sys.exit(f"Rasa not started: {problem}. Rasa would serve from memory and lose conversations.")
    _log_to_stderr()
    speedups.apply()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


if __name__ == "__main__":
    main()
