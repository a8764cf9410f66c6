"""Entry points and operations behind `python -m bot`: the supervisor (run), training, purge, the action server,
and the staff and contact-request commands.
"""
