"""What runs inside the Rasa process: NLU components, tracker and lock stores, and the guarded speed-ups.

`python -m bot.rasa_ext ...` is Rasa's own command line with the speed-ups applied; the stack starts Rasa that way.
"""
