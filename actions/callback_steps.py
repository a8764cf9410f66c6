"""The contact request's questions (with their buttons), storing the request and cancelling it.

The form's validation, which decides the questions and reads the answers, is in actions/callback.py.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import lookup, render
from actions.actions import (
    asked_again,
    emergency_first,
    emergency_just_given,
    latest_intent,
    latest_text,
    utter,
)
from actions.callback import (
    CALLBACK_SLOTS,
    MAX_SAFE_TIME_CHARS,
    PHONE_GIVEN,
    callback_reset,
)
from actions.deps import session_factory
from actions.language import in_reply_language
from bot.callbacks.office_hours import callback_deadline, is_office_open, next_callback_day, next_office_opening
from bot.callbacks.queue import NewCallback, create_callback
from bot.callbacks.vocabulary import LANGUAGES, NO_CONTACT, OWN_WINDOW, SMS, URGENT, URGENT_CALLBACK, VIOLENCE_TOPIC
from bot.stats import counters
from core import phone
from core.clock import now as clock_now
from core.ratelimit import SlidingWindowLimiter
from core.sealed import unseal

log = logging.getLogger(__name__)

# Contact requests stored from the chat, as the web form limits its own (bot/web/app.py): a few per conversation,
# and a ceiling for this action-server process, so a script that opens conversations cannot flood the queue.
REQUESTS_PER_CONVERSATION = (3, 3600.0)
REQUESTS_PER_PROCESS = (120, 3600.0)
_per_conversation = SlidingWindowLimiter(*REQUESTS_PER_CONVERSATION)
_per_process = SlidingWindowLimiter(*REQUESTS_PER_PROCESS)



class AskAction(Action, ABC):
    """Asks one question of the contact request with its buttons (texts in data/texts.yml)."""

    text_key = ""
    buttons_key: str | None = None

    @abstractmethod
    def name(self) -> str:
        """action_ask_<slot>, the name Rasa's form looks for."""

    @in_reply_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        buttons = render.buttons(self.buttons_key) if self.buttons_key else []
        key = self.text_key
        if asked_again(tracker, self.name().removeprefix("action_ask_")) and render.has_text(f"{key}_again"):
            key = f"{key}_again"
        dispatcher.utter_message(text=render.text(key), buttons=buttons)
        return []


class ActionAskCbTopic(AskAction):
    text_key, buttons_key = "callback.ask_topic", "callback.topic_buttons"

    def name(self) -> str:
        return "action_ask_cb_topic"


class ActionAskCbContactMethod(AskAction):
    text_key, buttons_key = "callback.ask_contact_method", "callback.contact_method_buttons"

    def name(self) -> str:
        return "action_ask_cb_contact_method"


class ActionAskCbTimeWindow(AskAction):
    """When contact suits; for violence, when a call or message is safe, also in the person's own words (S9)."""

    text_key, buttons_key = "callback.ask_time_window", "callback.time_window_buttons"

    def name(self) -> str:
        return "action_ask_cb_time_window"

    @in_reply_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("cb_topic") != VIOLENCE_TOPIC:
            return await super().run(dispatcher, tracker, domain)
        sms = tracker.get_slot("cb_contact_method") == SMS
        key = "callback.ask_safe_time_sms" if sms else "callback.ask_safe_time_call"
        dispatcher.utter_message(text=render.text(key), buttons=render.buttons("callback.safe_time_buttons"))
        return []


class ActionAskCbLeaveMessage(Action):
    """Violence topic (S9): may a message be left when the person does not answer; for SMS, the neutral text."""

    def name(self) -> str:
        return "action_ask_cb_leave_message"

    @in_reply_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        sms = tracker.get_slot("cb_contact_method") == SMS
        key = "callback.ask_leave_message_sms" if sms else "callback.ask_leave_message_call"
        if asked_again(tracker, "cb_leave_message"):
            key = "callback.ask_leave_message_again"
        dispatcher.utter_message(text=render.text(key), buttons=render.buttons("callback.leave_message_buttons"))
        return []


class ActionAskCbConsent(AskAction):
    """The privacy notice (S3): what is stored, who sees it, how long, child-welfare duty, not for emergencies."""

    text_key, buttons_key = "callback.ask_consent", "callback.consent_buttons"

    def name(self) -> str:
        return "action_ask_cb_consent"


class ActionAskCbAlias(AskAction):
    text_key, buttons_key = "callback.ask_alias", "callback.alias_skip_button"

    def name(self) -> str:
        return "action_ask_cb_alias"


class ActionAskCbPhone(Action):
    def name(self) -> str:
        return "action_ask_cb_phone"

    @in_reply_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        sms = tracker.get_slot("cb_contact_method") == SMS
        dispatcher.utter_message(text=render.text("callback.ask_phone_sms" if sms else "callback.ask_phone_call"))
        return []


class ActionAskCbUrgency(Action):
    """After hours: says when staff are back and asks whether help is needed now."""

    def name(self) -> str:
        return "action_ask_cb_urgency"

    @in_reply_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        now = clock_now()
        opening = next_office_opening(now)
        dispatcher.utter_message(
            text=render.text("callback.ask_urgency", day=render.day_named(opening.date(), now.date()),
                             opens=render.clock_text(opening)),
            buttons=render.buttons("callback.urgency_buttons"),
        )
        return []


class ActionSubmitCallback(Action):
    """Ends the contact request: stores it (before confirming), or shows 24/7 help, or says nothing was stored."""

    def name(self) -> str:
        return "action_submit_callback"

    @in_reply_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        now = clock_now()
        slots = {name: tracker.get_slot(name) for name in (*CALLBACK_SLOTS, "municipality")}
        if slots["cb_urgency"] == URGENT:
            if not emergency_just_given(tracker):
                emergency_first(dispatcher)
            with session_factory()() as session:
                records = lookup.urgent_services(session, slots["municipality"], now)
            utter(dispatcher, render.urgent_replies(records, now, STATIC_EMERGENCY_NUMBERS))
            return callback_reset()
        if slots["cb_contact_method"] == NO_CONTACT:
            # Neither a call nor a message: nothing is stored, and the person hears what else there is (S9).
            parts = [render.text("callback.no_contact_way")]
            if slots["cb_topic"] == VIOLENCE_TOPIC:
                parts.append(render.text("callback.no_contact_way_violence"))
            parts.append(render.text("callback.no_contact_way_end"))
            dispatcher.utter_message(text=" ".join(parts), buttons=render.menu_buttons())
            return callback_reset()
        if slots["cb_consent"] is False:
            dispatcher.utter_message(text=render.text("callback.consent_declined"), buttons=render.menu_buttons())
            return callback_reset()
        method = slots["cb_contact_method"]
        check = phone.check_phone(latest_text(tracker), for_sms=method == SMS)
        violence = slots["cb_topic"] == VIOLENCE_TOPIC
        needed = ("cb_topic", "cb_contact_method", "cb_time_window") + (("cb_leave_message",) if violence else ())
        complete = all(slots[name] is not None for name in needed)
        if slots["cb_consent"] is not True or slots["cb_phone"] != PHONE_GIVEN or not check.ok or not complete:
            dispatcher.utter_message(text=render.text("callback.phone_gave_up"),
                                     buttons=render.buttons("callback.gave_up_buttons"))
            return callback_reset()
        assert check.e164 is not None
        due = next_callback_day(now)
        alias = unseal(slots["cb_alias"])  # None when skipped, or when the seal is not this stack's (a restart)
        request = NewCallback(
            topic=slots["cb_topic"], contact_method=method, phone_e164=check.e164,
            time_window=slots["cb_time_window"], callback_due=due,
            consent_notice_version=render.text("callback.notice_version"),
            alias=alias, municipality=slots["municipality"], urgent=slots["cb_urgency"] == URGENT_CALLBACK,
            safe_time=_safe_time(slots["cb_time_window"], slots["cb_safe_time"]) if violence else None,
            may_leave_message=bool(slots["cb_leave_message"]) if violence else None,
            # The conversation's language as the safety triage last read it (S10): staff call in that language.
            language=tracker.get_slot("reply_language") if tracker.get_slot("reply_language") in LANGUAGES else "fi",
        )
        if _per_conversation.blocked(tracker.sender_id) or _per_process.blocked(""):
            log.warning("contact request refused: too many in the last hour")
            dispatcher.utter_message(text=render.text("callback.too_many"), buttons=render.menu_buttons())
            return callback_reset()
        try:
            with session_factory()() as session:
                create_callback(session, request, now)
                counters.record(session, counters.count_at(now, counters.CALLBACK_CREATED, request.topic,
                                                           counters.CHAT))
        except SQLAlchemyError as error:
            # The exception text would hold the number; log only its kind.
            log.error("contact request could not be stored: %s", type(error).__name__)
            dispatcher.utter_message(text=render.text("callback.save_failed"))
            return callback_reset()
        _per_conversation.hit(tracker.sender_id)
        _per_process.hit("")
        key = "callback.saved_sms" if method == SMS else "callback.saved_call"
        # The promise is the service's own (1–3 working days); the only day named is the last of those, which
        # office hours make certain. Never "huomenna": the queue decides which of the days it is (S9).
        confirmation = render.text(
            key, alias=f", {alias}" if alias else "", last_day=render.day_full(callback_deadline(now)),
            window=_window_clause(slots["cb_time_window"]),
            last_digits=phone.last_digits(check.e164),
        )
        parts = [confirmation]
        if violence:
            parts.append(render.text("callback.saved_safety_sms" if method == SMS else "callback.saved_safety_call"))
            parts.append(render.text("callback.saved_leave_message_yes" if slots["cb_leave_message"]
                                     else "callback.saved_leave_message_no"))
        if not is_office_open(now):
            parts.append(render.text("callback.saved_after_hours"))
        parts.append(render.text("callback.saved_not_emergency"))
        dispatcher.utter_message(text=" ".join(parts), buttons=render.buttons("buttons.something_else"))
        return callback_reset()


def _window_clause(window: str) -> str:
    """", mahdollisuuksien mukaan aamupäivällä (klo 8–12)", or nothing when any time suits."""
    if window == OWN_WINDOW:
        return render.text("callback.own_window_clause")
    label = render.text(f"callback.windows.{window}")
    return render.text("callback.window_clause", window=label) if label else ""


def _safe_time(window: str, own_words: str | None) -> str:
    """What staff read as the safe time of a violence request: the person's own words, or the chosen window."""
    if window == OWN_WINDOW and own_words:
        return own_words[:MAX_SAFE_TIME_CHARS]
    return render.text(f"callback.safe_time_labels.{window}")


# Digits of the numbers utter_emergency gives; catalogue entries with only these are not repeated after it.
STATIC_EMERGENCY_NUMBERS = {"112", "080005005"}


class ActionCancelCallback(Action):
    """After "peruuta" in the contact request: nothing was stored; forget what was typed."""

    def name(self) -> str:
        return "action_cancel_callback"

    @in_reply_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if latest_intent(tracker) == "goodbye":
            dispatcher.utter_message(response="utter_goodbye")
        else:
            dispatcher.utter_message(text=render.text("callback.cancelled"), buttons=render.menu_buttons())
        return callback_reset()
