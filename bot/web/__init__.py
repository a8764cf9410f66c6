"""The aiohttp web app (`python -m bot web`): chat page, gateway to Rasa, contact form and staff console.

Nothing imports this package except its entry point (bot.__main__) and the tests.
"""
