"""`python -m bot`: run the stack, train, serve the web app, and the staff/admin commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("run", help="start actions, Rasa and the web app in the foreground")

    p_train = sub.add_parser("train", help="train the Rasa model quietly")
    p_train.add_argument("--out", type=Path, default=Path("models"))
    p_train.add_argument("--name", default="perheopas")
    p_train.add_argument("--config", default="config.yml")

    p_web = sub.add_parser("web", help="serve the chat page, gateway and staff console")
    p_web.add_argument("--host", default="127.0.0.1")
    p_web.add_argument("--port", type=int, default=8000)

    p_actions = sub.add_parser("actions", help="serve the custom actions (rasa_sdk) with redacted logs")
    p_actions.add_argument("--port", type=int, default=5055)
    p_actions.add_argument("--host", default=None,
                           help="address to listen on (default SANIC_HOST or 127.0.0.1; a private interface only)")
    p_lookups = sub.add_parser("nlu-lookups", help="generate NLU lookup tables from the municipality data")
    p_lookups.add_argument("--out", type=Path, required=True)

    p_safety = sub.add_parser("safety-train", help="retrain the learned safety triage model (bot/safety/learn.py)")
    p_safety.add_argument("--check", action="store_true", help="only check that the model matches its inputs")

    p_cb = sub.add_parser("callbacks", help="contact requests")
    cb_sub = p_cb.add_subparsers(dest="callbacks_command", required=True)
    p_list = cb_sub.add_parser("list", help="list contact requests")
    p_list.add_argument("--json", action="store_true")
    p_list.add_argument("--status", choices=["new", "claimed", "done"])

    p_purge = sub.add_parser("purge", help="delete handled contact requests and old conversations (retention)")
    p_purge.add_argument("--callbacks-days", type=int, default=None,
                         help="days after handling (default: PERHEOPAS_CALLBACK_RETENTION_DAYS or 30)")
    p_purge.add_argument("--conversations-days", type=int, default=None,
                         help="days after the last message (default: PERHEOPAS_CONVERSATION_RETENTION_DAYS or 30)")
    p_purge.add_argument("--callbacks-max-days", type=int, default=None,
                         help="days after it was made that any contact request goes, whatever its status "
                              "(default: PERHEOPAS_CALLBACK_MAX_DAYS or 90)")
    p_purge.add_argument("--stats-days", type=int, default=None,
                         help="days the anonymous counters are kept (default: PERHEOPAS_STATS_RETENTION_DAYS or 1095)")

    p_stats = sub.add_parser("stats", help="the anonymous service-development figures (contract 8)")
    p_stats.add_argument("--json", action="store_true", help="print JSON (the default is a short summary)")
    p_stats.add_argument("--since", default=None, help="first day included, YYYY-MM-DD (default: all kept)")
    p_stats.add_argument("--until", default=None, help="last day included, YYYY-MM-DD (default: today)")
    p_stats.add_argument("--suppress", action="store_true",
                         help="show counts under 5 as \"< 5\", exactly as the dashboard does")

    p_staff = sub.add_parser("staff", help="staff console users")
    staff_sub = p_staff.add_subparsers(dest="staff_command", required=True)
    p_add = staff_sub.add_parser("add-user", help="create a staff user; the password is read from stdin")
    p_add.add_argument("name")
    p_add.add_argument("--replace", action="store_true", help="set a new password for an existing user")
    p_add.add_argument("--role", choices=["worker", "coordinator"], default=None,
                       help="worker (the queue; the default for a new user) or coordinator (also the figures)")
    p_reset = staff_sub.add_parser("reset-2fa", help="forget a user's second factor; they enrol again at log-in")
    p_reset.add_argument("name")
    p_disable = staff_sub.add_parser("disable-user", help="stop a user from logging in and end their sessions")
    p_disable.add_argument("name")

    args = parser.parse_args(argv)
    if args.command not in ("train", "safety-train"):
        # Databases, their journals and logs under var/ (also those Rasa and the action server create as our
        # children) hold personal data: 0600. Training only writes the model and its own log, made 0600 itself.
        from core.settings import keep_new_files_private

        keep_new_files_private()

    if args.command == "run":
        from bot.ops.run import main as run_main

        return run_main()
    if args.command == "train":
        from bot.ops.train import train

        return train(args.out, args.name, args.config)
    if args.command == "web":
        from bot.web.app import serve

        serve(args.host, args.port)
        return 0
    if args.command == "actions":
        from bot.ops.actions_server import serve as serve_actions

        serve_actions(args.port, args.host)
        return 0
    if args.command == "nlu-lookups":
        from bot.ops.nlu_lookups import write_lookups

        count = write_lookups(args.out)
        print(f"Wrote {count} municipality forms to {args.out}")
        return 0
    if args.command == "safety-train":
        from bot.safety.learn import main as safety_train

        return safety_train(["--check"] if args.check else [])
    if args.command == "callbacks":
        from bot.ops.callbacks_cli import list_command

        return list_command(as_json=args.json, status=args.status)
    if args.command == "purge":
        from bot.ops.purge import purge_command

        return purge_command(args.callbacks_days, args.conversations_days, args.callbacks_max_days, args.stats_days)
    if args.command == "staff":
        from bot.ops import staff_cli

        if args.staff_command == "reset-2fa":
            return staff_cli.reset_2fa_command(args.name)
        if args.staff_command == "disable-user":
            return staff_cli.disable_user_command(args.name)
        return staff_cli.add_user_command(args.name, replace=args.replace, role=args.role)
    if args.command == "stats":
        from bot.ops.stats_cli import stats_command

        return stats_command(as_json=args.json, since=args.since, until=args.until, suppressed=args.suppress)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
