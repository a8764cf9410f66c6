"""Perheopas custom actions, served by rasa-sdk's action server."""

from bot.redact import install_log_redaction

# rasa-sdk configures logging before it imports this package and offers no other hook; the action server echoes
# trackers in its error logs, so its handlers get the same redacting filter as Rasa's (S3).
install_log_redaction()
