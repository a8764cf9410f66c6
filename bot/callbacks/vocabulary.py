"""The contact request's vocabulary: the values its fields take, in one place.

The web form (bot/web/contact_form.py), the conversation (actions/callback.py) and the staff console all read and
write these values, and callback_requests stores them; `python -m bot callbacks list --json` shows them (contract 6).
Adding a value here offers it everywhere; the texts that name each value live with each user interface.
"""

from __future__ import annotations

from core import language

# What the request is about (the web form's and the conversation's topic choice).
MEETING_PLACE_TOPIC = "kohtaamispaikka"
SEPARATION_TOPIC = "eroauttaminen"
VIOLENCE_TOPIC = "lahisuhdevakivalta"
OTHER_TOPIC = "muu"  # anything the person describes in their own words: staff read the topic, not the bot
TOPICS = (MEETING_PLACE_TOPIC, SEPARATION_TOPIC, VIOLENCE_TOPIC, OTHER_TOPIC)

# How staff get in touch.
CALL = "call"
SMS = "sms"
CONTACT_METHODS = (CALL, SMS)
NO_CONTACT = "none"  # conversation only: the person refused both a call and a message, so no request is stored

# When staff get in touch.
TIME_WINDOWS = ("morning", "afternoon", "any")
OWN_WINDOW = "own"  # conversation only, violence topic: a safe time in the person's own words (S9)

# How urgent it is, as the conversation asks after office hours (S2); stored as the request's `urgent` flag.
URGENT = "urgent"  # danger now: emergency numbers, no request
LATER = "later"
URGENT_CALLBACK = "urgent_callback"
URGENCY_VALUES = (URGENT, LATER, URGENT_CALLBACK)

# The language staff should use (contract 6): the chat page's, or the conversation's (S10).
LANGUAGES = language.LANGUAGES

# Where a stored request is in the staff's work.
CALLBACK_STATUSES = ("new", "claimed", "done")

# What a staff user may open: workers the queue; coordinators also the figures (/staff/stats).
WORKER = "worker"
COORDINATOR = "coordinator"
STAFF_ROLES = (WORKER, COORDINATOR)
