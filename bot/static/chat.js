// Perheopas web chat: no third-party code, session id only in sessionStorage, quick exit on Esc.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const exitLink = document.getElementById("quick-exit");

  function sessionId() {
    let id = sessionStorage.getItem("perheopas-session");
    if (!id) {
      const bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      sessionStorage.setItem("perheopas-session", id);
    }
    return id;
  }

  function quickExit(event) {
    if (event) event.preventDefault();
    sessionStorage.clear();
    log.textContent = "";
    window.location.replace(exitLink.dataset.target);
  }

  function show(text, who) {
    const div = document.createElement("div");
    div.className = "msg " + who;
    div.textContent = text;
    log.appendChild(div);
    return div;
  }

  function showButtons(buttons) {
    const box = document.createElement("div");
    box.className = "buttons";
    for (const b of buttons) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.title;
      btn.addEventListener("click", () => { box.remove(); send({ payload: b.payload }, b.title); });
      box.appendChild(btn);
    }
    log.appendChild(box);
  }

  async function send(body, shownText) {
    show(shownText, "me");
    body.session = sessionId();
    try {
      const resp = await fetch("/api/chat", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      const data = await resp.json();
      for (const m of data.messages || []) {
        if (m.text) show(m.text, "bot");
        if (m.buttons && m.buttons.length) showButtons(m.buttons);
      }
    } catch (e) {
      show("Yhteys katkesi. Jos olet vaarassa, soita 112. Nollalinja 080 005 005 päivystää aina.", "bot");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ message: text }, text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  exitLink.addEventListener("click", quickExit);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") quickExit(event); });
})();
