"""The shared core: database engine and Base, schema migrations, clock, settings, phone numbers.

Used by every process (web app, Rasa, actions, command line) and by the catalogue; imports nothing else of ours.
"""
