"""Rasa's own command line, with the speed-ups the served Rasa runs (bot/rasa_ext/speedups.py).

    .venv/bin/python -m bot.rasa_ext test core --stories tests/stories --model models/perheopas.tar.gz

The served Rasa gets the speed-ups from the anonymising tracker store; commands that never create it (`rasa test`,
`rasa shell` without endpoints) get them here, so they load the model in a quarter of the time and predict as the
served Rasa does.
"""

from __future__ import annotations

import sys

from bot.rasa_ext import speedups as rasa_speedups


def main() -> None:
    rasa_speedups.apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
