"""Safety triage and privacy, as pure functions: danger, crisis and young-writer cues, the static safety texts,
redaction. Used inside Rasa (the triage component), by the web gateway and by the actions; imports only core.
"""
