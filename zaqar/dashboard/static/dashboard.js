// Zaqar live dashboard: everything comes over the websocket API, as for any client.
//
// Sign in (a Keystone token, or a project id with authentication off), list the
// project's queues with their stats, subscribe to each queue (subscription_create
// without a subscriber: the server pushes every message posted to it) and keep one
// table per queue, one row per resource (instance, volume...) with its latest state.
// After a lost connection (a server restart) reconnect, subscribe again and list what
// was posted meanwhile, from the last message seen (message_list with a marker).
"use strict";

(function () {
  const REFRESH_MS = 2000;             // queue list and stats
  const RECONNECT_MIN_MS = 250;
  const RECONNECT_MAX_MS = 5000;
  const SUBSCRIPTION_TTL = 86400;      // renewed at half-life while the page is open
  const PAGE = 20;                     // the server's default most messages per page
  // Payload fields naming the resource a row stands for, in order.
  const RESOURCE_KEYS = ["instance_id", "volume_id", "snapshot_id", "network_id", "port_id",
    "router_id", "resource_id", "uuid", "id"];

  const $ = (id) => document.getElementById(id);
  const clientId = uuid4();
  let config = null;
  let session = null;                  // {project, token}
  let socket = null;
  let generation = 0;                  // which connection callbacks belong to
  let reconnectDelay = RECONNECT_MIN_MS;
  let refreshTimer = null;
  let refreshing = null;               // the refresh in progress: never two at once
  let nextCall = 1;
  const calls = new Map();             // call id -> {resolve, reject}
  let authenticateCall = null;         // the call id of the authenticate in flight
  const queues = new Map();            // queue name -> QueueView

  function uuid4() {                   // crypto.randomUUID needs a secure context
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-` +
      `${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function setStatus(text, state) {
    $("status").textContent = text;
    $("status").dataset.state = state || "";
  }

  function cell(tag, text, className) {
    const node = document.createElement(tag);
    node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  // --- the websocket connection -------------------------------------------------------

  function websocketUrl() {
    if (config.websocket_url) return config.websocket_url;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.hostname}:${config.websocket_port}/`;
  }

  function call(action, body, extraHeaders) {
    return new Promise((resolve, reject) => {
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        reject(new Error("not connected"));
        return;
      }
      const id = String(nextCall++);
      const headers = Object.assign({"Client-ID": clientId, "Dashboard-Call": id},
        extraHeaders || {});
      if (session.project) headers["X-Project-ID"] = session.project;
      calls.set(id, {resolve, reject});
      if (action === "authenticate") authenticateCall = id;
      socket.send(JSON.stringify({action, headers, body: body || {}}));
    });
  }

  async function expect(action, body, status) {
    const reply = await call(action, body);
    if (reply.status !== status) {
      const why = (reply.body && (reply.body.description || reply.body.title)) || "";
      throw new Error(`${action} answered ${reply.status} ${why}`);
    }
    return reply.body;
  }

  function onFrame(event) {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (frame.action === "message_push") {
      const view = queues.get(frame.body.queue_name);
      if (view) view.received(frame.body.messages, true);
      return;
    }
    const request = frame.request || {};
    let id = request.headers && request.headers["Dashboard-Call"];
    // authenticate's reply echoes its request without the headers (as upstream's: the
    // token is never sent back), so it is matched by its action.
    if (id === undefined && request.action === "authenticate") id = authenticateCall;
    const pending = calls.get(id);
    if (!pending) return;
    calls.delete(id);
    pending.resolve({status: frame.headers && frame.headers.status, body: frame.body});
  }

  function connect() {
    const mine = ++generation;
    setStatus("Connecting…", "down");
    socket = new WebSocket(websocketUrl());
    socket.onmessage = onFrame;
    socket.onopen = () => {
      if (mine !== generation) return;
      start().catch((error) => {
        if (mine !== generation) return;
        setStatus(`Error: ${error.message}; reconnecting`, "down");
        socket.close();
      });
    };
    socket.onclose = (event) => {
      if (mine !== generation) return;
      for (const pending of calls.values()) pending.reject(new Error("connection lost"));
      calls.clear();
      clearInterval(refreshTimer);
      for (const view of queues.values()) view.subscribed = false;
      if (event.code === 4003) {
        signOut("Your token expired: sign in again.");
        return;
      }
      setStatus(`Disconnected; reconnecting in ${reconnectDelay / 1000} s`, "down");
      setTimeout(() => { if (mine === generation) connect(); }, reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS);
    };
  }

  async function start() {
    if (session.token) {
      const reply = await call("authenticate", {}, {"X-Auth-Token": session.token});
      if (reply.status !== 200) {
        signOut(`Sign-in refused (${reply.status}): ${(reply.body || {}).description || ""}`);
        return;
      }
    }
    await refresh();
    reconnectDelay = RECONNECT_MIN_MS;
    setStatus("Live", "live");
    refreshTimer = setInterval(() => {
      if (!refreshing) refresh().catch(() => {});
    }, REFRESH_MS);
  }

  // --- queues ---------------------------------------------------------------------------

  async function listQueueNames() {
    const names = [];
    let marker = null;
    for (;;) {
      const body = await expect("queue_list", marker ? {marker, limit: PAGE} : {limit: PAGE},
        200);
      const page = body.queues || [];
      for (const queue of page) names.push(queue.name);
      if (page.length < PAGE) return names;
      marker = page[page.length - 1].name;
    }
  }

  function refresh() {
    refreshing = refreshQueues().finally(() => { refreshing = null; });
    return refreshing;
  }

  async function refreshQueues() {
    const names = await listQueueNames();
    for (const [name, view] of queues) {
      if (!names.includes(name)) {
        view.remove();
        queues.delete(name);
      }
    }
    for (const name of names) {
      if (!queues.has(name)) queues.set(name, new QueueView(name));
    }
    $("no-queues").hidden = names.length > 0;
    await Promise.all(names.map((name) => queues.get(name).sync()));
  }

  class QueueView {
    constructor(name) {
      this.name = name;
      this.marker = null;              // the last message listed: catch up from there
      this.subscribed = false;
      this.renewAt = 0;
      this.subscriptionId = null;
      this.statsSoon = null;             // a stats refresh scheduled after a push
      this.rows = new Map();           // resource key -> {tr, time}
      this.statsRow = document.createElement("tr");
      this.statsRow.dataset.queue = name;
      this.statsRow.append(cell("th", name), cell("td", "", "number"), cell("td", "", "number"),
        cell("td", "", "number"));
      this.statsRow.firstChild.scope = "row";
      insertSorted($("queues").tBodies[0], this.statsRow, name);
      this.section = document.createElement("section");
      this.section.dataset.queue = name;
      this.section.setAttribute("aria-label", `Queue ${name}`);
      const table = document.createElement("table");
      table.append(cell("caption", `Queue ${name}`));
      const head = table.createTHead().insertRow();
      for (const title of ["Resource", "Name", "State", "Last event", "Updated"]) {
        const th = cell("th", title);
        th.scope = "col";
        head.append(th);
      }
      this.body = table.createTBody();
      this.section.append(table);
      insertSorted($("queue-tables"), this.section, name);
    }

    async sync() {
      if (!this.subscribed) {
        // Subscribe first, then list: nothing posted in between is missed.
        const body = await expect("subscription_create",
          {queue_name: this.name, ttl: SUBSCRIPTION_TTL}, 201);
        this.subscriptionId = body.subscription_id;
        this.renewAt = Date.now() + SUBSCRIPTION_TTL * 500;
        this.subscribed = true;
        await this.catchUp();
      } else if (Date.now() > this.renewAt) {
        await expect("subscription_update", {queue_name: this.name,
          subscription_id: this.subscriptionId, ttl: SUBSCRIPTION_TTL}, 204);
        this.renewAt = Date.now() + SUBSCRIPTION_TTL * 500;
      }
      await this.refreshStats();
    }

    async refreshStats() {
      const stats = (await expect("queue_get_stats", {queue_name: this.name}, 200)).messages;
      const cells = this.statsRow.cells;
      cells[1].textContent = stats.free;
      cells[2].textContent = stats.claimed;
      cells[3].textContent = stats.total;
    }

    async catchUp() {
      for (;;) {
        const request = {queue_name: this.name, limit: PAGE, echo: true, include_claimed: true};
        if (this.marker) request.marker = this.marker;
        const page = (await expect("message_list", request, 200)).messages || [];
        this.received(page, false);
        if (page.length) this.marker = page[page.length - 1].id;
        if (page.length < PAGE) return;
      }
    }

    received(messages, pushed) {
      for (const message of messages) this.apply(message);
      // A push after the catch-up is the newest message: resume from it next time.
      if (pushed && this.subscribed && messages.length) {
        this.marker = messages[messages.length - 1].id;
        // Stats follow pushes too, at most a few times a second.
        if (!this.statsSoon) {
          this.statsSoon = setTimeout(() => {
            this.statsSoon = null;
            this.refreshStats().catch(() => {});
          }, 250);
        }
      }
    }

    apply(message) {
      const view = describe(message);
      const row = this.rows.get(view.key);
      // At-least-once delivery may bring an older update after a newer one: keep the newest.
      if (row && view.time && row.time && view.time < row.time) return;
      if (view.removed) {
        if (row) {
          row.tr.remove();
          this.rows.delete(view.key);
        }
        return;
      }
      const tr = row ? row.tr : document.createElement("tr");
      if (!row) {
        tr.dataset.key = view.key;
        tr.append(cell("th", view.key), cell("td", ""), cell("td", ""), cell("td", ""),
          cell("td", "", "when"));
        tr.firstChild.scope = "row";
        insertSorted(this.body, tr, view.key);
      }
      tr.dataset.state = view.state;
      tr.cells[1].textContent = view.name;
      tr.cells[2].textContent = view.state;
      tr.cells[3].textContent = view.event;
      tr.cells[4].textContent = view.time;
      tr.classList.remove("changed");
      void tr.offsetWidth;               // restart the highlight
      tr.classList.add("changed");
      this.rows.set(view.key, {tr, time: view.time});
    }

    remove() {
      this.statsRow.remove();
      this.section.remove();
    }
  }

  // What a message says of its resource: a notification posted by zaqar-bridge
  // ({event_type, timestamp, payload: {...}}), or any JSON body posted by a client.
  function describe(message) {
    const isObject = (value) => value !== null && typeof value === "object" &&
      !Array.isArray(value);
    const body = isObject(message.body) ? message.body : {value: message.body};
    let payload = isObject(body.payload) ? body.payload : body;
    if (isObject(payload["nova_object.data"])) payload = payload["nova_object.data"];
    const keyField = RESOURCE_KEYS.find((field) =>
      typeof payload[field] === "string" || typeof payload[field] === "number");
    const text = (value) => (value === undefined || value === null ? "" :
      typeof value === "string" ? value : JSON.stringify(value));
    const event = text(body.event_type);
    const state = text(payload.state !== undefined ? payload.state : payload.status);
    return {
      key: keyField ? String(payload[keyField]) : `message ${message.id}`,
      name: text(payload.display_name !== undefined ? payload.display_name : payload.name),
      state: state || (keyField ? "" : text(message.body)),
      event,
      time: text(body.timestamp || payload.updated_at),
      removed: /\.delete\.end$/.test(event) || state === "deleted",
    };
  }

  function insertSorted(parent, node, key) {
    const after = Array.from(parent.children).find((child) =>
      (child.dataset.key || child.dataset.queue).localeCompare(key, undefined,
        {numeric: true}) > 0);
    parent.insertBefore(node, after || null);
  }

  // --- signing in and out ---------------------------------------------------------------

  function signIn(event) {
    event.preventDefault();
    const project = $("project").value.trim();
    const token = $("token").value.trim();
    if (config.auth === "keystone" ? !token : !project) {
      $("signin-error").textContent = config.auth === "keystone" ?
        "Give a Keystone token." : "Give a project ID.";
      return;
    }
    $("signin-error").textContent = "";
    session = {project, token};
    $("project-name").textContent = project || "of the token";
    $("signin").hidden = true;
    $("board").hidden = false;
    connect();
  }

  function signOut(reason) {
    generation++;
    clearInterval(refreshTimer);
    if (socket) socket.close();
    socket = null;
    session = null;
    for (const view of queues.values()) view.remove();
    queues.clear();
    $("board").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = typeof reason === "string" ? reason : "";
    setStatus("Signed out", "");
  }

  async function init() {
    $("signin").addEventListener("submit", signIn);
    $("signout").addEventListener("click", signOut);
    try {
      const reply = await fetch("config.json", {headers: {Accept: "application/json"}});
      config = await reply.json();
    } catch (error) {
      setStatus(`Could not read the dashboard configuration: ${error.message}`, "down");
      return;
    }
    if (!config.websocket_port && !config.websocket_url) {
      setStatus("This server does not serve the websocket API ([drivers] transport).", "down");
      return;
    }
    const keystone = config.auth === "keystone";
    $("token-field").hidden = !keystone;
    $("signin-hint").textContent = keystone ?
      "Sign in with a Keystone token (openstack token issue); the project is the token's." :
      "Authentication is off: name the project to watch.";
    $("signin").hidden = false;
    setStatus("Signed out", "");
  }

  init();
})();
