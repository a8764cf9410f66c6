// Perheopas web chat. No third-party code; the session id lives only in sessionStorage (safety rule S5);
// the transcript lives only in this page, and the quick exit (link, Esc, Shift three times) wipes both.
(function () {
  "use strict";

  const SESSION_KEY = "perheopas-session";
  const SHIFT_PRESSES = 3;
  const SHIFT_WINDOW_MS = 1200;
  const URL_PATTERN = /https?:\/\/[^\s<>"'()]+/g;
  // Finnish phone numbers as the catalogue prints them (0xx..., +358...), 112 and the 116 xxx services;
  // candidates with fewer than 7 digits (times such as "9.00 - 14.00", postal codes) stay plain text.
  const PHONE_PATTERN = /(?:\+358|\b0)[\d\s-]{5,16}\d\b|\b112\b|\b116 ?\d{3}\b/g;

  const texts = JSON.parse(document.getElementById("ui-texts").textContent);
  const lang = document.documentElement.lang || "fi";
  const log = document.getElementById("log");
  const typing = document.getElementById("typing");
  const composer = document.getElementById("composer");
  const input = document.getElementById("message");
  const exitLink = document.getElementById("quick-exit");
  const callbackBox = document.getElementById("callback");
  const callbackForm = document.getElementById("callback-form");
  const callbackErrors = document.getElementById("cb-errors");
  const callbackResult = document.getElementById("cb-result");

  // ---- quick exit --------------------------------------------------------------------------------------

  function quickExit(event) {
    if (event) event.preventDefault();
    try { sessionStorage.clear(); } catch (e) { /* storage may be disabled; nothing to clear then */ }
    log.textContent = "";
    input.value = "";
    callbackForm.reset();
    callbackBox.hidden = true;
    const target = exitLink.dataset.target;
    // Embedded as a widget: replace the whole host page. Browsers let a cross-site frame do that only after a
    // click or tap (Esc does not count), so the frame itself is replaced too, and at worst the chat is gone.
    if (window.top !== window.self) {
      try { window.top.location.replace(target); } catch (e) { /* refused: the frame still goes below */ }
    }
    window.location.replace(target);
  }

  let shiftCount = 0;
  let shiftStarted = 0;
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.isComposing) { quickExit(event); return; }
    if (event.key === "Shift" && !event.repeat) {
      const now = Date.now();
      if (now - shiftStarted > SHIFT_WINDOW_MS) { shiftCount = 0; shiftStarted = now; }
      shiftCount += 1;
      if (shiftCount >= SHIFT_PRESSES) { shiftCount = 0; quickExit(event); }
      return;
    }
    // Typing capitals between presses is not a triple Shift.
    shiftCount = 0;
  });
  exitLink.addEventListener("click", quickExit);

  // Language links replace this history entry, so the quick exit leaves nothing behind to go Back to.
  for (const link of document.querySelectorAll("a[data-replace]")) {
    link.addEventListener("click", (event) => { event.preventDefault(); window.location.replace(link.href); });
  }

  // A page restored from the back-forward cache after an exit must not show the old chat.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && !sessionStorage.getItem(SESSION_KEY)) { log.textContent = ""; callbackBox.hidden = true; }
  });

  // ---- session -----------------------------------------------------------------------------------------

  function sessionId() {
    let id = sessionStorage.getItem(SESSION_KEY);
    if (!id) {
      const bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      sessionStorage.setItem(SESSION_KEY, id);
    }
    return id;
  }

  // ---- rendering ---------------------------------------------------------------------------------------

  function safeHttpUrl(text) {
    try {
      const url = new URL(text);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function appendPhones(parent, text) {
    let last = 0;
    for (const match of text.matchAll(PHONE_PATTERN)) {
      const digits = match[0].replace(/\D/g, "");
      const special = digits === "112" || /^116\d{3}$/.test(digits);
      if (!special && (digits.length < 7 || digits.length > 13)) continue;
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      const a = document.createElement("a");
      a.href = "tel:" + (match[0].startsWith("+") ? "+" : "") + digits;
      a.textContent = match[0];
      parent.appendChild(a);
      last = match.index + match[0].length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // Bot text is plain text: it is never parsed as HTML. Web addresses become links that open in a new tab
  // without giving that page a handle on this one (noopener) or telling it where the user came from.
  function appendRich(parent, text) {
    let last = 0;
    for (const match of text.matchAll(URL_PATTERN)) {
      let raw = match[0];
      const trailing = raw.match(/[.,;:!?]+$/);
      if (trailing) raw = raw.slice(0, -trailing[0].length);
      const href = safeHttpUrl(raw);
      if (!href) continue;
      appendPhones(parent, text.slice(last, match.index));
      const a = document.createElement("a");
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = raw;
      const hint = document.createElement("span");
      hint.className = "visually-hidden";
      hint.textContent = " " + texts.new_tab;
      a.appendChild(hint);
      parent.appendChild(a);
      last = match.index + raw.length;
    }
    appendPhones(parent, text.slice(last));
  }

  function show(text, who) {
    const div = document.createElement("div");
    div.className = "msg " + who;
    const label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = (who === "me" ? texts.me : texts.bot) + " ";
    div.appendChild(label);
    const body = document.createElement("span");
    if (who === "bot") appendRich(body, text); else body.textContent = text;
    div.appendChild(body);
    log.appendChild(div);
    div.scrollIntoView({ block: "nearest" });
    return div;
  }

  function showButtons(buttons) {
    const box = document.createElement("div");
    box.className = "buttons";
    for (const b of buttons) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.title;
      btn.addEventListener("click", () => {
        box.remove();
        send({ payload: b.payload }, b.title);
        input.focus();
      });
      box.appendChild(btn);
    }
    log.appendChild(box);
  }

  function showCallbackForm() {
    if (!callbackBox.hidden) return;
    callbackBox.hidden = false;
    callbackForm.hidden = false;
    callbackResult.hidden = true;
  }

  // ---- feedback on a service answer: a thumb up or down, an optional reason from a fixed list, no free text -----

  const REASONS = ["not_near", "wrong_info", "not_answered"];
  let feedbackCount = 0;

  function feedbackButton(label, emoji, onClick) {
    const btn = document.createElement("button");
    btn.type = "button";
    if (emoji) {
      const icon = document.createElement("span");
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = emoji + " ";
      btn.appendChild(icon);
    }
    btn.appendChild(document.createTextNode(label));
    btn.addEventListener("click", onClick);
    return btn;
  }

  async function sendFeedback(box, topic, rating, reason) {
    let message = texts.fb_failed;
    try {
      const resp = await fetch("/api/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ session: sessionId(), lang: lang, topic: topic, rating: rating, reason: reason }),
        credentials: "same-origin",
      });
      const data = await resp.json();
      if (data.message) message = data.message;
    } catch (e) { /* the thanks is replaced by the failure text; the chat itself goes on */ }
    box.textContent = "";
    const status = document.createElement("p");
    status.setAttribute("role", "status");
    status.textContent = message;
    box.appendChild(status);
  }

  function showFeedback(topic) {
    for (const old of log.querySelectorAll(".feedback")) old.remove();
    feedbackCount += 1;
    const box = document.createElement("div");
    box.className = "feedback";
    box.setAttribute("role", "group");
    const question = document.createElement("p");
    question.id = "fb-question-" + feedbackCount;
    question.textContent = texts.fb_question;
    box.setAttribute("aria-labelledby", question.id);
    const choices = document.createElement("div");
    choices.className = "fb-choices";
    choices.appendChild(feedbackButton(texts.fb_yes, "👍", () => sendFeedback(box, topic, "up", null)));
    choices.appendChild(feedbackButton(texts.fb_no, "👎", () => {
      question.textContent = texts.fb_reason_question;
      choices.textContent = "";
      for (const reason of REASONS) {
        choices.appendChild(feedbackButton(texts["fb_reason_" + reason], "",
                                           () => sendFeedback(box, topic, "down", reason)));
      }
      choices.appendChild(feedbackButton(texts.fb_skip_reason, "", () => sendFeedback(box, topic, "down", null)));
      choices.firstChild.focus();
    }));
    box.appendChild(question);
    box.appendChild(choices);
    log.appendChild(box);
  }

  // ---- chat --------------------------------------------------------------------------------------------

  let busy = 0;
  function setBusy(delta) {
    busy += delta;
    typing.hidden = busy === 0;
    log.setAttribute("aria-busy", busy > 0 ? "true" : "false");
  }

  async function send(body, shownText) {
    // Only the latest reply's buttons stay: the gateway accepts just the payloads it offered last.
    for (const box of log.querySelectorAll(".buttons")) box.remove();
    show(shownText, "me");
    setBusy(1);
    try {
      body.session = sessionId();
      const resp = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      const data = await resp.json();
      let feedbackTopic = null;
      for (const m of data.messages || []) {
        if (m.text) show(m.text, "bot");
        if (m.buttons && m.buttons.length) showButtons(m.buttons);
        if (m.custom && m.custom.show_callback_form) showCallbackForm();
        if (m.custom && typeof m.custom.feedback_topic === "string") feedbackTopic = m.custom.feedback_topic;
      }
      if (feedbackTopic) showFeedback(feedbackTopic);
      if (data.degraded) showCallbackForm();
    } catch (e) {
      show(texts.network_error, "bot");
    } finally {
      setBusy(-1);
    }
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ message: text }, text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  // ---- contact request form ----------------------------------------------------------------------------

  const FIELDS = ["topic", "contact_method", "phone", "time_window", "alias", "municipality", "consent"];

  function clearErrors() {
    callbackErrors.hidden = true;
    callbackErrors.textContent = "";
    for (const name of FIELDS) {
      const error = document.getElementById("err-" + name);
      error.hidden = true;
      error.textContent = "";
      for (const el of callbackForm.querySelectorAll("[name='" + name + "']")) el.removeAttribute("aria-invalid");
    }
  }

  function showErrors(message, fields) {
    callbackErrors.textContent = message;
    callbackErrors.hidden = false;
    let first = null;
    for (const name of FIELDS) {
      if (!fields || !fields[name]) continue;
      const error = document.getElementById("err-" + name);
      error.textContent = fields[name];
      error.hidden = false;
      const controls = callbackForm.querySelectorAll("[name='" + name + "']");
      for (const el of controls) el.setAttribute("aria-invalid", "true");
      if (!first && controls.length) first = controls[0];
    }
    if (first) first.focus();
  }

  function checked(name) {
    const el = callbackForm.querySelector("[name='" + name + "']:checked");
    return el ? el.value : null;
  }

  callbackForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    let session;
    try { session = sessionId(); } catch (e) { showErrors(texts.cb_failed, null); return; }
    const body = {
      session: session,
      lang: lang,
      topic: checked("topic"),
      contact_method: checked("contact_method"),
      phone: callbackForm.elements.phone.value,
      time_window: checked("time_window"),
      alias: callbackForm.elements.alias.value,
      municipality: callbackForm.elements.municipality.value,
      consent: callbackForm.elements.consent.checked,
    };
    const submit = callbackForm.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const resp = await fetch("/api/callback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      const data = await resp.json();
      if (resp.status === 201) {
        callbackForm.reset();
        callbackForm.hidden = true;
        callbackResult.textContent = data.message;
        callbackResult.hidden = false;
        callbackResult.focus();
      } else {
        showErrors(data.message || texts.cb_failed, data.fields);
      }
    } catch (e) {
      showErrors(texts.cb_failed, null);
    } finally {
      submit.disabled = false;
    }
  });
})();
