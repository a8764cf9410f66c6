"""Perheopas service catalogue: models, PTV import, topic classification, opening hours and ranked queries."""
