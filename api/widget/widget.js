/*! otoq chat widget — one script tag per agent:
 *  <script src="https://HOST/widget.js" data-agent="PUBLIC_ID" async></script>
 * Plain JavaScript, no build step. It talks only to the agent's public routes
 * (/widget/v1/PUBLIC_ID/...) and never holds an API key. Its UI lives in a shadow root, so the
 * host page's CSS cannot reach it. */
(function () {
  "use strict";
  var perf = window.performance;
  var mark = function (name) { try { perf.mark(name); } catch (e) { /* old browsers */ } };
  mark("otoq:script-start");

  var script = document.currentScript || document.querySelector("script[data-agent]");
  if (!script) return;
  var publicId = script.getAttribute("data-agent");
  if (!publicId || window["otoqWidget:" + publicId]) return;
  window["otoqWidget:" + publicId] = true;
  var origin = new URL(script.src, location.href).origin;
  var api = origin + "/widget/v1/" + encodeURIComponent(publicId);
  var keyOf = function (k) { return "otoq:" + publicId + ":" + k; };
  var store = {
    get: function (k) { try { return localStorage.getItem(keyOf(k)); } catch (e) { return null; } },
    set: function (k, v) { try { if (v == null) localStorage.removeItem(keyOf(k)); else localStorage.setItem(keyOf(k), String(v)); } catch (e) { /* private mode */ } }
  };

  function warn(message) {
    if (window.console) console.warn("[otoq] " + message);
    try { window.dispatchEvent(new CustomEvent("otoq:error", { detail: { agent: publicId, message: message } })); } catch (e) { /* old browsers */ }
  }

  /** A JSON request to the public routes; resolves to {status, body, headers}. */
  function call(method, path, body) {
    var headers = {};
    var token = store.get("visitor");
    if (token) headers["X-Otoq-Visitor"] = token;
    if (body) headers["Content-Type"] = "application/json";
    return fetch(api + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined, credentials: "omit" })
      .then(function (res) {
        // A token near its end comes back renewed: keep the new one.
        var renewed = res.headers.get("X-Otoq-Visitor");
        if (renewed) store.set("visitor", renewed);
        return res;
      });
  }

  function readError(res) {
    return res.json().then(function (b) { return b; }, function () {
      return { error: "error", message: "Something went wrong (" + res.status + ")." };
    }).then(function (b) {
      var e = new Error(b.message || "Something went wrong.");
      e.code = b.error; e.status = res.status;
      var retry = res.headers.get("Retry-After");
      if (retry) e.retryAfter = +retry;
      throw e;
    });
  }

  function ensureVisitor(fresh) {
    if (!fresh && store.get("visitor")) return Promise.resolve();
    store.set("visitor", null);
    return call("POST", "/visitors").then(function (res) {
      if (!res.ok) return readError(res);
      return res.json().then(function (b) { store.set("visitor", b.data.visitor_token); });
    });
  }

  /** Calls with the visitor token, asking for a new one once if the server no longer knows it. */
  function visitorCall(method, path, body) {
    return ensureVisitor(false).then(function () { return call(method, path, body); }).then(function (res) {
      if (res.status !== 401) return res;
      return ensureVisitor(true).then(function () { return call(method, path, body); });
    });
  }

  var CSS =
    ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    ".launcher{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;cursor:pointer;" +
    "background:var(--c);color:#fff;box-shadow:0 6px 20px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;z-index:2147483000;transition:transform .15s}" +
    ".launcher:hover{transform:scale(1.06)}.launcher:focus-visible,button:focus-visible,a:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #111;outline-offset:2px}" +
    ".launcher svg{width:28px;height:28px;fill:currentColor}" +
    ".panel{position:fixed;right:20px;bottom:92px;width:370px;max-width:calc(100vw - 40px);height:560px;max-height:calc(100vh - 112px);" +
    "background:#fff;color:#1f2328;border-radius:16px;box-shadow:0 12px 40px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden;z-index:2147483000;font-size:14px;line-height:1.45}" +
    ".panel[hidden]{display:none}" +
    "header{background:var(--c);color:#fff;padding:12px 12px 12px 16px;display:flex;align-items:center;gap:8px}" +
    "header h2{font-size:16px;margin:0;flex:1;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}" +
    "header button{background:rgba(255,255,255,.18);color:#fff;border:0;border-radius:8px;padding:6px 10px;cursor:pointer;font-size:12px}" +
    "header button:hover{background:rgba(255,255,255,.3)}header .close{font-size:18px;line-height:1;padding:4px 9px}" +
    ".log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px;background:#f6f7f9}" +
    ".msg{max-width:85%;padding:9px 12px;border-radius:14px;white-space:pre-wrap;word-wrap:break-word}" +
    ".bot{align-self:flex-start;background:#fff;border:1px solid #e3e5e8;border-bottom-left-radius:4px}" +
    ".user{align-self:flex-end;background:var(--c);color:#fff;border-bottom-right-radius:4px}" +
    ".note{align-self:center;font-size:12px;color:#57606a;text-align:center;max-width:95%}" +
    ".error{align-self:center;font-size:12px;color:#b42318;background:#fef3f2;border-radius:8px;padding:6px 10px}" +
    ".sources{margin-top:6px;font-size:12px;color:#57606a;display:flex;flex-wrap:wrap;gap:4px 8px}" +
    ".sources a{color:var(--c);text-decoration:underline}" +
    ".actions{display:flex;gap:8px;flex-wrap:wrap;align-self:flex-start}" +
    ".actions button,.card button{border:1px solid var(--c);background:#fff;color:var(--c);border-radius:999px;padding:6px 12px;cursor:pointer;font-size:13px}" +
    ".actions button.primary,.card button.primary{background:var(--c);color:#fff}" +
    ".typing{align-self:flex-start;background:#fff;border:1px solid #e3e5e8;border-radius:14px;padding:10px 12px;display:flex;gap:4px}" +
    ".typing i{width:7px;height:7px;border-radius:50%;background:#8c959f;animation:b 1s infinite ease-in-out}" +
    ".typing i:nth-child(2){animation-delay:.15s}.typing i:nth-child(3){animation-delay:.3s}" +
    "@keyframes b{0%,80%,100%{opacity:.3;transform:translateY(0)}40%{opacity:1;transform:translateY(-3px)}}" +
    ".card{align-self:stretch;background:#fff;border:1px solid #e3e5e8;border-radius:12px;padding:12px;display:flex;flex-direction:column;gap:8px}" +
    ".card p{margin:0;font-weight:600}.card label{display:flex;flex-direction:column;gap:3px;font-size:12px;color:#57606a}" +
    ".card input{border:1px solid #d0d7de;border-radius:8px;padding:7px 9px;font-size:14px;color:#1f2328}" +
    ".card .row{display:flex;gap:8px}" +
    "form.compose{display:flex;gap:8px;padding:10px;border-top:1px solid #e3e5e8;background:#fff}" +
    "form.compose textarea{flex:1;resize:none;border:1px solid #d0d7de;border-radius:10px;padding:8px 10px;font-size:14px;height:40px;max-height:120px;color:#1f2328}" +
    "form.compose button{background:var(--c);color:#fff;border:0;border-radius:10px;padding:0 14px;cursor:pointer;font-size:14px}" +
    "form.compose button:disabled{opacity:.5;cursor:default}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}" +
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100%;max-height:100%;border-radius:0}" +
    ".launcher{right:14px;bottom:14px}.panel:not([hidden])~.launcher{display:none}}";

  var ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z"/></svg>';

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "class") e.className = attrs[k]; else e.setAttribute(k, attrs[k]);
    }
    if (text != null) e.textContent = text;
    return e;
  }

  function safeUrl(u) {
    try { var p = new URL(u); return p.protocol === "https:" || p.protocol === "http:" ? p.href : null; } catch (e) { return null; }
  }

  var painted = false;

  /** Draws the launcher and the (closed) panel for `cfg`; returns the host element. */
  function render(cfg) {
    var color = /^#[0-9a-fA-F]{6}$/.test(cfg.primary_color) ? cfg.primary_color : "#6366f1";
    var lead = cfg.lead_form || { fields: [], trigger: "off", after_messages: 2 };
    var host = el("div", { id: "otoq-widget-" + publicId, "data-otoq": publicId });
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var style = el("style", null, CSS);
    root.appendChild(style);
    var wrap = el("div", { style: "--c:" + color });
    root.appendChild(wrap);

    var panel = el("div", { class: "panel", role: "dialog", "aria-label": "Chat with " + cfg.name, hidden: "" });
    var header = el("header");
    header.appendChild(el("h2", { id: "otoq-title" }, cfg.name));
    var human = el("button", { type: "button", class: "human", "aria-label": "Talk to a human" }, "Talk to a human");
    var close = el("button", { type: "button", class: "close", "aria-label": "Close chat" }, "\u00d7");
    header.appendChild(human); header.appendChild(close);
    var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
    var form = el("form", { class: "compose" });
    var input = el("textarea", { rows: "1", placeholder: "Type your message\u2026", "aria-label": "Your message", maxlength: "4000" });
    var send = el("button", { type: "submit", "aria-label": "Send message" }, "Send");
    form.appendChild(input); form.appendChild(send);
    panel.appendChild(header); panel.appendChild(log); panel.appendChild(form);
    var launcher = el("button", { type: "button", class: "launcher", "aria-label": "Open chat with " + cfg.name, "aria-expanded": "false" });
    launcher.innerHTML = ICON;
    wrap.appendChild(panel); wrap.appendChild(launcher);
    (document.body || document.documentElement).appendChild(host);

    var busy = false, loaded = false, typing = null;
    var status = store.get("status") || "active";

    function scroll() { log.scrollTop = log.scrollHeight; }
    function add(node) { log.appendChild(node); scroll(); return node; }
    function bubble(role, text) { return add(el("div", { class: "msg " + (role === "user" ? "user" : "bot") }, text)); }
    function note(text) { return add(el("div", { class: "note" }, text)); }
    function showError(text) { return add(el("div", { class: "error", role: "alert" }, text)); }
    function setTyping(on) {
      if (on && !typing) {
        typing = el("div", { class: "typing", role: "status", "aria-label": cfg.name + " is typing" });
        typing.innerHTML = "<i></i><i></i><i></i>";
        add(typing);
      } else if (!on && typing) { typing.remove(); typing = null; }
    }
    function sources(node, list) {
      var seen = {}, box = null;
      (list || []).forEach(function (s) {
        var url = s.url ? safeUrl(s.url) : null;
        var id = (s.title || "") + "|" + (url || "");
        if (seen[id]) return;
        seen[id] = true;
        if (!box) { box = el("div", { class: "sources" }); box.appendChild(el("span", null, "Sources:")); node.appendChild(box); }
        box.appendChild(url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, s.title || url) : el("span", null, s.title));
      });
    }

    function open() {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      launcher.setAttribute("aria-label", "Close chat with " + cfg.name);
      store.set("open", "1");
      host.setAttribute("data-open", "true");
      if (!loaded) { loaded = true; restore(); }
      setTimeout(function () { input.focus(); }, 0);
    }
    function shut() {
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      launcher.setAttribute("aria-label", "Open chat with " + cfg.name);
      store.set("open", null);
      host.setAttribute("data-open", "false");
      launcher.focus();
    }
    launcher.addEventListener("click", function () { if (panel.hidden) open(); else shut(); });
    close.addEventListener("click", shut);
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.preventDefault(); shut(); } });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
    human.addEventListener("click", function () { handoff(); });

    /** Shows the earlier messages of the stored conversation (after a reload). */
    function restore() {
      var conv = store.get("conversation");
      if (!conv) { welcome(); return; }
      visitorCall("GET", "/conversations/" + encodeURIComponent(conv)).then(function (res) {
        if (!res.ok) return readError(res);
        return res.json().then(function (b) {
          b.data.messages.forEach(function (m) {
            if (m.role === "system") { note(m.content); return; }
            var n = bubble(m.role, m.content);
            if (m.role === "assistant") sources(n, m.sources);
          });
          status = b.data.status; store.set("status", status);
          if (status === "handoff_requested") human.disabled = true;
        });
      }).catch(function () {
        store.set("conversation", null); store.set("count", null); store.set("status", null);
        welcome();
      });
    }
    function welcome() { if (cfg.welcome_message) bubble("assistant", cfg.welcome_message); }

    function fail(e) {
      setTyping(false);
      var m = e && e.message ? e.message : "The connection was lost. Please try again.";
      if (e && e.retryAfter) m += " (try again in " + e.retryAfter + " s)";
      showError(m);
    }

    function submit() {
      var text = input.value.trim();
      if (!text || busy) return;
      input.value = "";
      bubble("user", text);
      ask(text);
    }

    /** Sends a message and streams the reply into a new bubble. */
    function ask(text) {
      busy = true; send.disabled = true;
      setTyping(true);
      var body = { message: text, stream: true };
      var conv = store.get("conversation");
      if (conv) body.conversation_id = conv;
      var started = perf.now(), first = null, reply = null, done = null;
      visitorCall("POST", "/chat", body).then(function (res) {
        if (!res.ok) return readError(res);
        var reader = res.body.getReader(), decoder = new TextDecoder(), buf = "";
        function onEvent(name, data) {
          if (name === "token") {
            if (first === null) { first = perf.now() - started; mark("otoq:first-token"); window.__otoqFirstToken = first; }
            setTyping(false);
            if (!reply) reply = bubble("assistant", "");
            reply.textContent += data.text;
            scroll();
          } else if (name === "done") {
            done = data.data;
          } else if (name === "error") {
            throw Object.assign(new Error(data.message), { code: data.error });
          }
        }
        function pump() {
          return reader.read().then(function (r) {
            if (r.value) buf += decoder.decode(r.value, { stream: true });
            var i;
            while ((i = buf.indexOf("\n\n")) >= 0) {
              var chunk = buf.slice(0, i); buf = buf.slice(i + 2);
              var name = "message", data = "";
              chunk.split("\n").forEach(function (line) {
                if (line.indexOf("event:") === 0) name = line.slice(6).trim();
                else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
              });
              if (data) onEvent(name, JSON.parse(data));
            }
            if (!r.done) return pump();
          });
        }
        return pump().then(function () {
          if (!done) throw new Error("The reply was interrupted. Please try again.");
          finish(done, reply);
        });
      }).catch(fail).then(function () { busy = false; send.disabled = false; setTyping(false); });
    }

    function finish(d, reply) {
      setTyping(false);
      if (!reply) reply = bubble("assistant", "");
      reply.textContent = d.response;
      sources(reply, d.sources);
      store.set("conversation", d.conversation_id);
      var count = (+store.get("count") || 0) + 1;
      store.set("count", count);
      var was = status;
      status = d.status; store.set("status", status);
      if (status === "handoff_requested" && was !== status) { human.disabled = true; maybeLead("handoff"); return; }
      if (d.handoff_offered && status === "active") offer();
      if (lead.trigger === "after_messages" && count >= lead.after_messages) maybeLead("messages");
    }

    /** The agent's offer of a person, as buttons. */
    function offer() {
      var box = add(el("div", { class: "actions", role: "group", "aria-label": "Talk to a person?" }));
      var yes = el("button", { type: "button", class: "primary" }, "Yes, connect me with a person");
      var no = el("button", { type: "button" }, "No, thanks");
      box.appendChild(yes); box.appendChild(no);
      yes.addEventListener("click", function () { box.remove(); handoff(); });
      no.addEventListener("click", function () { box.remove(); input.focus(); });
      yes.focus();
    }

    function handoff() {
      var conv = store.get("conversation");
      if (status === "handoff_requested") { note("A person has already been asked to join this conversation."); return; }
      if (!conv) { bubble("user", "I'd like to talk to a human."); ask("I'd like to talk to a human."); return; }
      visitorCall("POST", "/handoff", { conversation_id: conv }).then(function (res) {
        if (!res.ok) return readError(res);
        return res.json().then(function (b) {
          status = b.data.status; store.set("status", status);
          note(b.data.message || "A person will continue this conversation.");
          human.disabled = true;
          maybeLead("handoff");
        });
      }).catch(fail);
    }

    /** The lead form, when the agent's settings ask for it now and it was not answered. */
    function maybeLead(reason) {
      var fields = lead.fields || [];
      if (!fields.length || lead.trigger === "off" || store.get("lead") || root.querySelector(".card")) return;
      if (reason === "messages" && lead.trigger !== "after_messages") return;
      var card = el("form", { class: "card", "aria-label": "Leave your contact details" });
      card.appendChild(el("p", null, reason === "handoff" ? "How can a person reach you?" : "Want us to follow up? Leave your details."));
      var labels = { name: "Name", email: "Email", phone: "Phone (with country code)", company: "Company" };
      var types = { name: "text", email: "email", phone: "tel", company: "text" };
      var inputs = {};
      fields.forEach(function (f) {
        var label = el("label", null, labels[f] || f);
        var i = el("input", { name: f, type: types[f] || "text", autocomplete: f === "company" ? "organization" : f === "phone" ? "tel" : f });
        label.appendChild(i); card.appendChild(label); inputs[f] = i;
      });
      var row = el("div", { class: "row" });
      var ok = el("button", { type: "submit", class: "primary" }, "Send details");
      var later = el("button", { type: "button" }, "Not now");
      row.appendChild(ok); row.appendChild(later); card.appendChild(row);
      var problem = null;
      later.addEventListener("click", function () { card.remove(); store.set("lead", "dismissed"); input.focus(); });
      card.addEventListener("submit", function (e) {
        e.preventDefault();
        var body = {};
        fields.forEach(function (f) { var v = inputs[f].value.trim(); if (v) body[f] = v; });
        var conv = store.get("conversation");
        if (conv) body.conversation_id = conv;
        ok.disabled = true;
        visitorCall("POST", "/leads", body).then(function (res) {
          if (!res.ok) return readError(res);
          card.remove(); store.set("lead", "sent");
          note("Thanks! We'll be in touch.");
        }).catch(function (err) {
          ok.disabled = false;
          if (problem) problem.remove();
          problem = el("div", { class: "error", role: "alert" }, err.message);
          card.insertBefore(problem, row);
        });
      });
      add(card);
      var firstInput = inputs[fields[0]];
      if (firstInput) firstInput.focus();
    }

    // The frame after the bubble was inserted has been painted once this timeout runs.
    if (!painted) requestAnimationFrame(function () {
      setTimeout(function () {
        mark("otoq:bubble-painted");
        try { perf.measure("otoq:first-paint", "otoq:script-start", "otoq:bubble-painted"); } catch (e) { /* old browsers */ }
      }, 0);
    });
    painted = true;
    if (store.get("open") || script.getAttribute("data-open") === "true") open();
    return host;
  }

  // The last config seen paints the bubble at once on later page views; the fresh one replaces
  // it (or removes the widget when the server no longer serves this page).
  var cached = store.get("config"), host = null;
  if (cached) {
    try { host = render(JSON.parse(cached)); } catch (e) { store.set("config", null); host = null; }
  }
  // The iframe variant's page and the console's preview carry their config: a same-origin GET
  // has no `Origin`, which an agent with allowed origins requires.
  var inline = (script.getAttribute("data-frame") === "true" || script.getAttribute("data-config") === "inline") &&
    document.getElementById("otoq-config");
  var loaded = inline ? Promise.resolve({ data: JSON.parse(inline.textContent) }) : call("GET", "/config").then(function (res) {
    if (!res.ok) return readError(res);
    return res.json();
  });
  loaded.then(function (b) {
    {
      var raw = JSON.stringify(b.data);
      if (host && raw === cached) return;
      store.set("config", raw);
      if (host && host.getAttribute("data-open") === "true") return;
      if (host) host.remove();
      host = render(b.data);
    }
  }).catch(function (e) {
    if (host && e && e.status) { host.remove(); host = null; store.set("config", null); }
    warn(e && e.message ? e.message : "the chat could not load");
  });
})();
