"""Anonymous service-development figures: daily counters the bot keeps as it goes, and the report built on them.

Counts only: no text, no session or request id, nothing finer in time than the hour of day. It imports only core,
so the web app, the action server and the command line can all count (tests/test_layout.py).
"""
