// nowaki live runtime: wire B of protocol/SPEC.md ("browser ⇄ front").
//
// It joins every <nowaki-live data-token> island over one WebSocket, sends
// clicks on [data-live] elements and submits of <form data-live> as events,
// and morphs each island to the HTML the front sends back. It touches only
// <nowaki-live> subtrees (plus the documented state attribute on <html> and
// the [data-nowaki-presence] mirrors), and never anything marked
// data-live-ignore.
//
// Budget: the minified build must stay under 2,048 bytes with gzip -9, so the
// code favours short, repeated shapes (gzip likes them) over clever tricks.

const doc = document;
const html = doc.documentElement;

// Islands by id (the index). e: the <nowaki-live> element; h: the last HTML
// the front sent for it (the splice baseline, null until the first patch);
// q: one entry per event in flight, the submitted <form> or 0 for a click.
// The front answers each event exactly once and in order, so the reply to
// an event is always the head of q.
const islands = [...doc.querySelectorAll("nowaki-live[data-token]")].map(
  (e) => ({ e, h: null, q: [] }),
);

let ws; // the current socket
let rejoin; // set once a socket has opened: later joins ask for a render
let tries = 0; // reconnects since the last good join (drives the backoff)
let retry = 0; // timer of the scheduled reconnect, 0 when none
let beat = 0; // heartbeat interval in ms, from `joined`
let pinger; // setInterval handle sending pings
let heard; // when the socket last received anything (Date.now())
let sess; // session id from `joined`: resumes our states after a drop
let snap; // snapshot token from a front that went away (restart, redeploy)

const state = (s) => (html.dataset.nowakiLive = s);

const fire = (target, name, detail) =>
  target.dispatchEvent(
    new CustomEvent("nowaki:" + name, { bubbles: true, detail }),
  );

// aria-busy mirrors "this island has an event in flight".
const busy = (x) =>
  x.q.length
    ? x.e.setAttribute("aria-busy", "true")
    : x.e.removeAttribute("aria-busy");

// Send only on an open socket; the caller learns whether it went out.
const send = (m) => ws.readyState == 1 && (ws.send(JSON.stringify(m)), 1);

// ---------------------------------------------------------------- morph

// An element's id read through the attribute: `form.id` would return a
// child <input name="id">. Text and comment nodes have no id (undefined).
const idOf = (n) => n.getAttribute?.("id");

// Marked "leave my DOM alone" (text and comment nodes never are).
const ignored = (n) => n.hasAttribute?.("data-live-ignore");

// Two nodes are "the same node" when type, tag and id agree. An ignored
// element pairs only with an ignored one, so markup the server adds in
// front of it is inserted rather than swallowed by the ignored element.
const same = (o, n) =>
  o.nodeName == n.nodeName && idOf(o) == idOf(n) && !ignored(o) == !ignored(n);

// The live properties each form control takes from the new markup (the
// attributes alone only set defaults once the user has typed).
const props = {
  INPUT: ["value", "checked"],
  TEXTAREA: ["value"], // a parsed textarea's value is its text content
  SELECT: ["value"],
  OPTION: ["selected"],
};

// Morph old node o into new node n (same nodeName). `form` is the form
// whose submit this patch answers, if any.
const update = (o, n, form) => {
  if (o.nodeType != 1) {
    if (o.nodeValue != n.nodeValue) o.nodeValue = n.nodeValue;
    return;
  }
  // Hands off: the element belongs to someone else. Unchanged markup needs
  // no work either, except when answering a submit, whose controls hold
  // typed values that the markup alone would not clear.
  if (ignored(o) || (!form && o.isEqualNode(n))) return;
  for (const k of o.getAttributeNames())
    if (!n.hasAttribute(k)) o.removeAttribute(k);
  // Set as a copy of the parsed Attr, so namespaced ones (xlink:href) stay so.
  for (const k of n.getAttributeNames())
    if (o.getAttribute(k) != n.getAttribute(k))
      o.setAttributeNode(n.getAttributeNode(k).cloneNode());
  children(o, n, form);
  // Children first, so a <select> already has its new options. The focused
  // control keeps what the user is typing (value and caret), unless it
  // belongs to the form that was just submitted. Only differing values are
  // written: an equal write would still add a checkbox's value attribute.
  if (o != doc.activeElement || (form && form.contains(o)))
    for (const k of props[o.tagName] || []) if (o[k] != n[k]) o[k] = n[k];
};

// Morph the children of old parent p to those of new parent np.
const children = (p, np, form) => {
  let o = p.firstChild;
  for (let n = np.firstChild, next, m; n; n = next) {
    next = n.nextSibling;
    if (o && same(o, n)) {
      // In place: the common case, keeps the node (and focus) as it is.
      update(o, n, form);
      o = o.nextSibling;
    } else {
      // Keyed: a later old sibling with this id is moved here and kept.
      m = o;
      if (idOf(n)) while (m && !same(m, n)) m = m.nextSibling;
      if (m && idOf(n)) {
        p.insertBefore(m, o);
        update(m, n, form);
      } else p.insertBefore(n, o); // new: adopt the parsed node itself
    }
  }
  // Old nodes the new markup no longer has.
  while (o) {
    const next = o.nextSibling;
    o.remove();
    o = next;
  }
};

// New markup is parsed into a <div> of a document without a window: as
// inert as a <template> (nothing loads, runs or upgrades there), parsed in
// the context the page parsed the island in, and quicker to parse into.
const scratch = doc.implementation.createHTMLDocument("").createElement("div");

const morph = (x, source, form) => {
  scratch.innerHTML = source;
  children(x.e, scratch, form);
};

// ---------------------------------------------------------------- socket

const connect = () => {
  retry = 0;
  state("connecting");
  const w = (ws = new WebSocket(
    (location.protocol == "https:" ? "wss:" : "ws:") +
      "//" +
      location.host +
      "/__nowaki/live",
  ));

  w.onopen = () => {
    // After a reconnect the DOM may be ahead of the signed token: ask the
    // front to render every island at once (`render` is left out first).
    send({
      type: "join",
      islands: islands.map((x, i) => [i, x.e.dataset.token]),
      render: rejoin,
      resume: sess,
      snapshot: snap || undefined,
    });
    rejoin = true;
  };

  w.onmessage = (ev) => {
    heard = Date.now(); // anything received proves the server alive
    const m = JSON.parse(ev.data);
    const t = m.type;
    const x = islands[m.id];
    let form;

    // A snapshot of our states from a front going away, for the next one.
    if (t == "snapshot") snap = m.token;

    if (t == "joined") {
      // The session names states the front keeps if we drop; a snapshot
      // is spent once a front has taken it.
      sess = m.session || sess;
      snap = 0;
      tries = 0;
      state("connected");
      beat = m.heartbeat * 1e3 || 25e3; // never 0: that would flood pings
      clearInterval(pinger);
      // Each interval: a socket silent for two of them is dead. Close it
      // ourselves (the browser's closing handshake could take a minute on a
      // dead link) and reconnect; otherwise ping.
      pinger = setInterval(() => {
        if (Date.now() - heard > 2 * beat) {
          w.onclose = null;
          w.close();
          down(1006);
        } else send({ type: "ping" });
      }, beat);
    }

    // Every event gets exactly one reply, patch or error, with its id;
    // `push` marks the ones that answer no event (timers, other viewers).
    if (x && !m.push && (t == "patch" || t == "error")) {
      form = x.q.shift();
      busy(x);
    }

    if (t == "patch" && x) {
      let h = m.html;
      const at = m.at;
      if (h != null && !(at && x.h == null)) {
        // A splice needs the baseline; without one the patch is unusable.
        if (at) h = x.h.slice(0, at[0]) + h + x.h.slice(at[0] + at[1]);
        x.h = h;
        morph(x, h, form);
      }
      x.e.removeAttribute("data-live-error");
    }

    if (t == "error") {
      if (x) x.e.setAttribute("data-live-error", m.message);
      fire(x ? x.e : doc, "error", { code: m.code, message: m.message });
    }

    // Dev mode: the app's code changed.
    if (t == "reload") location.reload();

    if (t == "presence") {
      for (const e of doc.querySelectorAll("[data-nowaki-presence]"))
        e.textContent = m.count;
      fire(doc, "presence", { count: m.count });
    }
  };

  w.onclose = (ev) => down(ev.code);
};

// The socket is gone: nothing is in flight any more; decide what comes next.
const down = (code) => {
  clearInterval(pinger);
  beat = 0;
  for (const x of islands) {
    x.q = [];
    busy(x);
  }
  // 4403: origin refused, 4400: protocol error. Retrying cannot help.
  if (code == 4403 || code == 4400) return state("disconnected");
  let delay;
  if (code == 4429) {
    // Over the connection cap: come back much later, spread out.
    state("refused");
    delay = 3e4 + Math.random() * 3e4;
  } else {
    // 100 ms, 300 ms, then full jitter under a doubling cap of 15 s; after
    // 12 failed tries in a row (about a minute) give up until the tab is
    // shown again, so a page without a live server (a static deploy, a
    // proxy that blocks upgrades) never hammers anyone. retry = -1 marks
    // "given up, but a visible tab may try once more".
    state("disconnected");
    if (tries > 11) return (retry = -1);
    delay =
      tries < 2
        ? tries * 200 + 100
        : Math.random() * Math.min(15e3, 500 * 2 ** (tries - 2));
    tries++;
  }
  retry = setTimeout(connect, delay);
};

// ---------------------------------------------------------------- events

// The island id of element t, or -1 when t is outside every live island or
// inside a data-live-ignore region of one (checked from `target` up).
const islandOf = (t, target) => {
  const island = t.closest("nowaki-live");
  const hands = target.closest("[data-live-ignore]");
  return hands && island?.contains(hands)
    ? -1
    : islands.findIndex((x) => x.e == island);
};

// Send an event; an island waits for its reply (aria-busy). Not live (socket
// closed): the event is dropped and the island stays idle.
const emit = (id, handler, payload, form) => {
  if (send({ type: "event", id, handler, payload })) {
    islands[id].q.push(form || 0);
    busy(islands[id]);
  }
};

// Send handler `t.dataset.live` for element t (a click target or a form).
const trigger = (ev, t, form) => {
  const id = islandOf(t, ev.target);
  if (id < 0) return;
  ev.preventDefault();
  const payload = {};
  if (form)
    new FormData(form, ev.submitter).forEach(
      (v, k) => typeof v == "string" && (payload[k] = v),
    );
  else
    for (const a of t.attributes)
      if (a.name.startsWith("data-live-value-"))
        payload[a.name.slice(16)] = a.value;
  emit(id, t.dataset.live, payload, form);
};

if (islands.length) {
  doc.addEventListener("click", (ev) => {
    // closest?.(): the target may be the document itself.
    const t = ev.target.closest?.("[data-live]");
    // A form's data-live names its submit handler, not a click one.
    if (t && t.tagName != "FORM") trigger(ev, t);
  });

  doc.addEventListener("submit", (ev) => {
    const f = ev.target;
    if (f.hasAttribute("data-live")) trigger(ev, f, f);
  });

  // data-live-input="h": send the field's value as you type, debounced
  // (data-live-debounce ms, default 300); payload {value, <name>: value}.
  doc.addEventListener("input", (ev) => {
    const t = ev.target;
    const h = t.dataset?.liveInput;
    const id = h ? islandOf(t, t) : -1;
    if (id < 0) return;
    clearTimeout(t.nwT);
    t.nwT = setTimeout(
      () => emit(id, h, { value: t.value, [t.name || "value"]: t.value }),
      t.dataset.liveDebounce ?? 300,
    );
  });

  // Leaving the page: tell the front not to keep our states for a reconnect.
  addEventListener("pagehide", () => send({ type: "leave" }));

  // Back on the tab: do not wait out the backoff (not when refused).
  doc.addEventListener("visibilitychange", () => {
    if (
      doc.visibilityState == "visible" &&
      retry &&
      html.dataset.nowakiLive == "disconnected"
    ) {
      clearTimeout(retry);
      connect();
    }
  });

  connect();
}
