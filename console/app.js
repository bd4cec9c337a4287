// The Couponflow merchant console: one page, no build step, on the merchant API.
// Every view is a URL (#/customers?status=active&q=ann), so a view can be bookmarked and shared;
// lists page with the API's cursors; the API key lives in this browser session only.

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const KEY = "couponflow.key";
const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;
let config = { api_url: "/v1", local: false };

// ---------------------------------------------------------------------------------------------
// DOM, text and time helpers (text is always set as text: nothing from the API becomes markup)
// ---------------------------------------------------------------------------------------------

// What a view or element holds, its nulls and falses left out (a null child would become the
// text "null"); nested lists flattened.
function present(nodes) {
  return nodes.flat(Infinity).filter((node) => node !== null && node !== undefined && node !== false);
}

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of present(children)) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { timeZone: TIME_ZONE });
}

const BAD = new Set(["bounced", "failed", "dropped", "complained", "unknown", "email_failed", "email_dropped", "out_of_coupons", "canceled"]);
const GOOD = new Set(["delivered", "opened", "clicked", "redeemed", "done", "email_delivered", "email_opened", "email_clicked", "clicked_through", "received", "sent", "connected"]);

function badge(status, extra) {
  const word = String(status ?? "—").replaceAll("_", " ");
  const tone = BAD.has(status) ? "status bad" : GOOD.has(status) ? "status good" : "status";
  return h("span", { class: tone }, extra ? `${word} (${String(extra).replaceAll("_", " ")})` : word);
}

function table(caption, columns, rows, empty) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      {},
      h("caption", { class: "muted" }, caption),
      h("thead", {}, h("tr", {}, columns.map(([title]) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row)))))),
    ),
  );
}

function show(...nodes) {
  main.replaceChildren(...present(nodes));
  main.focus({ preventScroll: true });
}

function problem(error) {
  return h("p", { class: "error", role: "alert" }, error.message);
}

// ---------------------------------------------------------------------------------------------
// The API, and the route in the URL
// ---------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    const field = body && body.field ? ` (${body.field})` : "";
    super(`${(body && body.message) || `The API answered ${status}`}${field}`);
    this.status = status;
  }
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(config.api_url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (response.status === 401 || response.status === 403) {
    sessionStorage.removeItem(KEY);
    throw new ApiError(response.status, { message: "That API key was not recognised. Sign in again." });
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

function route() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

function go(path, query = {}) {
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== "" && v !== null && v !== undefined));
  const text = params.toString();
  location.hash = `#${path}${text ? `?${text}` : ""}`;
}

function qs(params) {
  const text = new URLSearchParams([...params].filter(([, v]) => v)).toString();
  return text ? `?${text}` : "";
}

function csvButton(path, query, name) {
  // The whole list as CSV, in the list's current filters: the API answers up to 5,000 rows at a
  // time with the cursor of the rest in X-Next.
  return h("button", { type: "button", class: "secondary", onclick: async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const params = new URLSearchParams([...query].filter(([k, v]) => v && k !== "next"));
      let text = "";
      for (;;) {
        const response = await fetch(`${config.api_url}/exports${path}?${params}`, { headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}` } });
        if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
        const part = await response.text();
        text += text ? part.slice(part.indexOf("\n") + 1) : part;  // one header line
        const next = response.headers.get("X-Next");
        if (!next) break;
        params.set("next", next);
      }
      const link = h("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: `${name}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (error) {
      button.after(problem(error));
    } finally {
      button.disabled = false;
    }
  } }, "Download CSV");
}

function pager(path, query, next) {
  const links = [];
  if (query.get("next")) links.push(h("button", { type: "button", class: "secondary", onclick: () => history.back() }, "Previous page"));
  if (next) links.push(h("button", { type: "button", onclick: () => go(path, { ...Object.fromEntries(query), next }) }, "Next page"));
  return h("div", { class: "pager" }, links);
}

function filters(path, query, fields) {
  const form = h(
    "form",
    { class: "filters", role: "search", onsubmit: (event) => {
      event.preventDefault();
      go(path, Object.fromEntries(new FormData(form)));
    } },
    fields.map(([name, label, options]) =>
      h("label", {}, label, options
        ? h("select", { name }, options.map(([value, text]) => h("option", { value, selected: query.get(name) === value }, text)))
        : h("input", { name, value: query.get(name) || "", type: "search" }))),
    h("button", { type: "submit" }, "Apply"),
  );
  return form;
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

function signIn(message) {
  nav.hidden = true;
  const form = h(
    "form",
    { class: "inline", onsubmit: async (event) => {
      event.preventDefault();
      sessionStorage.setItem(KEY, new FormData(form).get("key").trim());
      try {
        await api("/settings");
        nav.hidden = false;
        go("/campaigns");
        render();
      } catch (error) {
        signIn(error.message);
      }
    } },
    h("label", {}, "API key", h("input", { name: "key", type: "password", required: true, autocomplete: "off", size: 60 })),
    h("button", { type: "submit" }, "Sign in"),
  );
  show(
    h("h1", {}, "Sign in"),
    h("p", {}, "Use one of your API keys (", h("code", {}, "couponflow keys create"), "; ", h("code", {}, "make run"), " prints one). It is kept for this browser tab only."),
    message ? h("p", { class: "error", role: "alert" }, message) : null,
    form,
  );
}

async function campaignsView(query) {
  const answer = await api(`/campaigns${qs(query)}`);
  const form = h(
    "form",
    { class: "inline", onsubmit: async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const codes = String(data.get("codes")).split(/[\s,]+/).filter(Boolean);
      try {
        const created = await api("/campaigns", { method: "POST", body: { name: data.get("name"), ...(codes.length ? { codes } : {}) } });
        go(`/campaigns/${encodeURIComponent(created.campaign_id)}`);
      } catch (error) {
        form.append(problem(error));
      }
    } },
    h("label", {}, "Name", h("input", { name: "name", required: true })),
    h("label", {}, "Codes (space or comma separated)", h("input", { name: "codes", size: 40 })),
    h("button", { type: "submit" }, "Create campaign"),
  );
  show(
    h("h1", {}, "Campaigns"),
    table("Your campaigns, newest first", [
      ["Campaign", (c) => h("a", { href: `#/campaigns/${encodeURIComponent(c.campaign_id)}` }, c.name)],
      ["State", (c) => badge(c.paused ? "paused" : "running", c.paused_reason)],
      ["Codes left", (c) => String(c.codes_available ?? "—")],
      ["Alerts", (c) => (c.alerts.length ? c.alerts.filter((a) => a !== "paused").map((a) => badge(a === "pool_low" ? "pool_low" : "out_of_coupons", a === "pool_empty" ? "pool empty" : null)) : "—")],
      ["Channel", (c) => c.channel],
      ["Window", (c) => `${when(c.starts_at)} – ${when(c.ends_at)}`],
    ], answer.items || [], "No campaigns yet: create one below, then point a storefront at its claim URL."),
    pager("/campaigns", query, answer.next),
    h("h2", {}, "New campaign"),
    form,
  );
}

async function campaignView(id, query) {
  const path = `/campaigns/${encodeURIComponent(id)}`;
  const [campaign, stats, customers] = await Promise.all([
    api(path), api(`${path}/stats`), api(`${path}/customers${qs(query)}`),
  ]);
  const counts = stats.counts;
  const steps = [
    ["Claimed", stats.claims.claimed],
    ["Email sent", stats.attempted],
    ["Delivered", counts.delivered + counts.opened + counts.clicked + counts.complained],
    ["Opened", counts.opened + counts.clicked],
    ["Coupon viewed", stats.claims.coupon_viewed],
    ["Clicked through", stats.claims.clicked_through],
    ["Redeemed", stats.claims.redeemed],
  ];
  const top = Math.max(1, ...steps.map(([, n]) => n));
  const turnedAway = Object.entries(stats.out_of_coupons).filter(([, n]) => n);
  const percent = (rate, digits) => `${(100 * rate).toFixed(digits)}%`;
  const toggle = campaign.paused
    ? h("button", { type: "button", onclick: () => act(`${path}/resume`) }, "Resume campaign")
    : h("button", { type: "button", class: "secondary", onclick: () => act(`${path}/pause`) }, "Pause campaign");
  show(
    h("h1", {}, campaign.name),
    h("dl", { class: "facts" },
      h("dt", {}, "State"), h("dd", {}, badge(campaign.paused ? "paused" : "running", campaign.paused_reason)),
      h("dt", {}, "Codes left"), h("dd", {}, String(stats.codes_available)),
      h("dt", {}, "Bounce rate"), h("dd", { class: stats.bounce_rate >= stats.bounce_rate_limit ? "error" : null }, `${percent(stats.bounce_rate, 2)} (paused at ${percent(stats.bounce_rate_limit, 0)})`),
      h("dt", {}, "Complaint rate"), h("dd", { class: stats.complaint_rate >= stats.complaint_rate_limit ? "error" : null }, `${percent(stats.complaint_rate, 3)} (paused at ${percent(stats.complaint_rate_limit, 2)})`),
      h("dt", {}, "Claim URL"), h("dd", {}, h("code", {}, `POST ${claimUrl(campaign)}`)),
    ),
    h("p", {}, toggle),
    config.local ? tryClaim(campaign) : null,
    h("h2", {}, "Funnel"),
    h("div", { class: "funnel", role: "img", "aria-label": steps.map(([n, v]) => `${n} ${v}`).join(", ") },
      steps.map(([name, value]) => [h("span", {}, name), h("div", { class: "bar", style: `width:${(100 * value) / top}%` }), h("span", {}, String(value))])),
    h("p", { id: "out-of-coupons" }, turnedAway.length
      ? `Answered out of coupons: ${turnedAway.map(([reason, n]) => `${n} ${reason.replaceAll("_", " ")}`).join(", ")}.`
      : "No claim was answered out of coupons.",
      ` Codes given back: ${stats.claims.expired} expired, ${stats.claims.released} released.`),
    h("h2", {}, "Load codes"),
    codeImport(campaign),
    h("h2", {}, "Customers"),
    filters(path, query, [["status", "Status", [["", "Any"], ["email_queued", "Email queued"], ["email_delivered", "Email delivered"], ["email_opened", "Email opened"], ["email_failed", "Email failed"], ["email_dropped", "Email dropped"], ["coupon_viewed", "Coupon viewed"], ["redeemed", "Redeemed"], ["out_of_coupons", "Out of coupons"]]]]),
    table("Customers of this campaign", [
      ["Customer", (r) => h("a", { href: `#/customers/${encodeURIComponent(r.customer_id)}` }, r.email || r.customer_id)],
      ["Status", (r) => badge(r.status, r.reason)],
      ["Integration status", (r) => (r.integration_status ? badge(r.integration_status, r.integration_detail) : "—")],
      ["When", (r) => when(r.integration_at || r.claimed_at)],
    ], customers.items, "No one has claimed this campaign yet."),
    h("div", { class: "list-actions" }, pager(path, query, customers.next), csvButton(`${path}/customers`, query, `${campaign.name} customers`)),
  );
}

function codeImport(campaign) {
  // A CSV of codes (one per line) goes straight to S3 through the job's presigned URL; the bar
  // shows the upload, then the import's own progress until the job is done.
  const path = `/campaigns/${encodeURIComponent(campaign.campaign_id)}/code-imports`;
  const bar = h("progress", { id: "import-progress", max: 1, value: 0, "aria-label": "Code import progress", hidden: true });
  const state = h("p", { role: "status", id: "import-state" });
  const form = h("form", { class: "inline", id: "code-import", onsubmit: async (event) => {
    event.preventDefault();
    const file = new FormData(form).get("file");
    form.querySelector("button").disabled = true;
    try {
      const job = await api(path, { method: "POST" });
      bar.hidden = false;
      state.textContent = "Uploading…";
      await upload(job.upload, file, (part) => { bar.value = part / 2; });
      await follow(`${path}/${encodeURIComponent(job.job_id)}`, bar, state);
    } catch (error) {
      state.replaceChildren(problem(error));
    } finally {
      form.querySelector("button").disabled = false;
    }
  } },
    h("label", {}, "CSV file of codes, one per line", h("input", { name: "file", type: "file", accept: ".csv,text/csv", required: true })),
    h("button", { type: "submit" }, "Import codes"),
  );
  return h("div", {}, form, bar, state);
}

function upload(offer, file, progress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(offer.method, offer.url);
    for (const [name, value] of Object.entries(offer.headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => event.lengthComputable && progress(event.loaded / event.total);
    request.onload = () => (request.status < 300 ? resolve() : reject(new Error(`The upload was refused (${request.status}).`)));
    request.onerror = () => reject(new Error("The upload did not reach storage; check your connection and try again."));
    request.send(file);
  });
}

async function follow(path, bar, state) {
  for (;;) {
    const job = await api(path);
    bar.value = 0.5 + job.progress / 2;
    state.textContent = `${job.state.replaceAll("_", " ")}: ${job.imported} imported, ${job.duplicate} duplicate, ${job.invalid} invalid`;
    if (job.state === "failed") throw new Error(`The import failed: ${job.reason || "see the job"}.`);
    if (job.state === "done") {
      state.textContent += ". Done.";
      return job;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function claimUrl(campaign) {
  const base = new URL(config.api_url, location.href).href.replace(/\/$/, "");
  return `${base}/public/merchants/${campaign.merchant_id}/campaigns/${campaign.campaign_id}/claims`;
}

function tryClaim(campaign) {
  // Local stack only: claim as a storefront would, then follow the customer's email.
  const form = h("form", { class: "inline", id: "try-claim", onsubmit: async (event) => {
    event.preventDefault();
    const email = new FormData(form).get("email");
    const response = await fetch(claimUrl(campaign), { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email }) });
    const body = await response.json();
    if (!response.ok) return form.append(problem(new ApiError(response.status, body)));
    go(`/customers/${encodeURIComponent(body.customer_id)}`);
  } },
    h("label", {}, "Claim a coupon as a storefront would (the local SES delivers success@ addresses)",
      h("input", { name: "email", type: "email", value: "success@simulator.amazonses.com", required: true, size: 36 })),
    h("button", { type: "submit" }, "Claim"),
  );
  return form;
}

async function act(path, method = "POST") {
  try {
    await api(path, { method });
    render();
  } catch (error) {
    main.prepend(problem(error));
  }
}

async function customersView(query) {
  const answer = await api(`/customers${qs(query)}`);
  show(
    h("h1", {}, "Customers"),
    filters("/customers", query, [["q", "Search email or name"], ["status", "Activity", [["", "Any"], ["active", "Active (365 days)"], ["inactive", "Inactive"]]]]),
    table(`Newest interaction first; times in ${TIME_ZONE}`, [
      ["Email", (c) => h("a", { href: `#/customers/${encodeURIComponent(c.customer_id)}` }, c.email || c.phone || c.customer_id)],
      ["First name", (c) => c.first_name || (c.name || "").split(" ")[0] || "—"],
      ["Last name", (c) => c.last_name || "—"],
      ["Last interaction", (c) => when(c.last_interaction_at)],
      ["Lists", (c) => String(c.lists)],
      ["Activity", (c) => badge(c.active ? "active" : "inactive")],
      ["Unsubscribed", (c) => (c.unsubscribed ? badge("unsubscribed") : "no")],
    ], answer.items, query.get("q") ? "No customer's email or name starts with that." : "No customers yet: they appear when they claim a coupon or you import them."),
    h("div", { class: "list-actions" }, pager("/customers", query, answer.next), csvButton("/customers", query, "customers")),
  );
}

function timeline(message) {
  const dialog = h("dialog", { "aria-labelledby": "timeline-title" },
    h("h2", { id: "timeline-title" }, `${message.channel === "sms" ? "Text" : "Email"} to ${message.recipient || "—"}`),
    h("p", {}, badge(message.status), " ", message.status_details && message.status_details.reason ? message.status_details.reason : ""),
    h("ol", {}, (message.events || []).map((event) => h("li", {},
      h("strong", {}, when(event.occurred_at)), " ", h("span", { class: "summary" }, event.summary),
      h("pre", {}, JSON.stringify(event.details, null, 2))))),
    h("form", { method: "dialog" }, h("button", { type: "submit" }, "Close")),
  );
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  dialog.showModal();
}

function customerActions(customer, segments) {
  const path = `/customers/${encodeURIComponent(customer.customer_id)}`;
  const unsubscribed = Boolean(customer.unsubscribed_at);
  const toggle = h("button", {
    type: "button", role: "switch", id: "unsubscribe-switch", class: "secondary", "aria-checked": String(unsubscribed),
    onclick: () => act(`${path}/unsubscribe`, unsubscribed ? "DELETE" : "POST"),
  }, unsubscribed ? "Globally unsubscribed: on" : "Globally unsubscribed: off");
  const statics = segments.filter((g) => g.kind === "static" && !(customer.lists || []).includes(g.segment_id));
  const form = h("form", { class: "inline", id: "add-to-list", onsubmit: async (event) => {
    event.preventDefault();
    try {
      await api(`/segments/${encodeURIComponent(new FormData(form).get("segment"))}/members`, { method: "POST", body: { customers: [customer.customer_id] } });
      render();
    } catch (error) {
      form.append(problem(error));
    }
  } },
    h("label", {}, "Add to a list", h("select", { name: "segment" }, statics.map((g) => h("option", { value: g.segment_id }, g.name)))),
    h("button", { type: "submit", disabled: !statics.length }, "Add"),
  );
  const inLists = segments.filter((g) => (customer.lists || []).includes(g.segment_id)).map((g) => g.name);
  return h("div", {}, h("p", {}, toggle, " ", h("span", { class: "muted" }, "Left out of every list and send while on.")),
    h("p", {}, `Lists: ${inLists.length ? inLists.join(", ") : "none"}`), form);
}

let refresh = null;

async function customerView(id) {
  const [customer, lists] = await Promise.all([api(`/customers/${encodeURIComponent(id)}`), api("/segments?limit=200")]);
  const moving = (customer.messages || []).some((m) => ["queued", "sent", "delayed"].includes(m.status));
  clearTimeout(refresh);
  if (moving) refresh = setTimeout(() => route().parts[1] === id && !document.querySelector("dialog[open]") && render(), 2000);
  show(
    h("h1", {}, customer.email || customer.phone || customer.customer_id),
    h("dl", { class: "facts" },
      h("dt", {}, "Name"), h("dd", {}, customer.name || "—"),
      h("dt", {}, "Last interaction"), h("dd", {}, when(customer.last_interaction_at)),
      h("dt", {}, "Activity"), h("dd", {}, badge(customer.active ? "active" : "inactive")),
      h("dt", {}, "Unsubscribed"), h("dd", {}, customer.unsubscribed_at ? when(customer.unsubscribed_at) : "no"),
    ),
    customerActions(customer, lists.items || []),
    h("h2", {}, "Claims"),
    table("Coupons claimed", [
      ["Campaign", (c) => h("a", { href: `#/campaigns/${encodeURIComponent(c.campaign_id)}` }, c.campaign_id)],
      ["Status", (c) => badge(c.status, c.reason)],
      ["Code", (c) => c.code || "—"],
      ["Claimed", (c) => when(c.claimed_at)],
    ], customer.claims, "No claims."),
    h("h2", {}, "Emails and texts"),
    table("Messages, with the status their events decided", [
      ["Sent to", (m) => m.recipient || "—"],
      ["Channel", (m) => m.channel],
      ["Status", (m) => badge(m.status)],
      ["Since", (m) => when(m.status_at || m.created_at)],
      ["Details", (m) => h("button", { type: "button", class: "secondary", "aria-label": `Timeline of the ${m.channel} to ${m.recipient || "the customer"}`, onclick: () => timeline(m) }, "(i)")],
    ], customer.messages, "No emails or texts yet."),
  );
}

function slots(count = 72) {
  // Times a send may be set for: on the hour, at least 2 hours ahead, in this browser's zone
  // (and 5 minutes more, so the first one offered is still allowed when the form is sent).
  const first = new Date(Date.now() + (2 * 3600 + 5 * 60) * 1000);
  if (first.getMinutes() || first.getSeconds() || first.getMilliseconds()) first.setHours(first.getHours() + 1, 0, 0, 0);
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(first.getTime() + i * 3600 * 1000);
    const pad = (n) => String(n).padStart(2, "0");
    const local = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:00:00`;
    return [local, at.toLocaleString(undefined, { weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })];
  });
}

function checked(answer, confirm) {
  // What scheduling would do, before it is done: when, who, codes, what would fail it, the message.
  const flight = answer.preflight;
  const left = Object.entries(flight.excluded).map(([why, n]) => `${n} ${why.replaceAll("_", " ")}`).join(", ");
  return h("section", { id: "schedule-check", "aria-labelledby": "check-title" },
    h("h3", { id: "check-title" }, `Before you confirm: ${when(answer.send_at)}`),
    h("p", {}, `${flight.eligible} of ${flight.members} members would get it${left ? ` (left out: ${left})` : ""}; ${flight.codes_needed} codes needed, ${flight.codes_available} left.`),
    flight.members ? null : h("p", { class: "error", role: "alert" }, "The segment has no members yet: add customers to it first."),
    flight.warnings.map((w) => h("p", { class: "error", role: "alert" }, w.message)),
    h("pre", {}, answer.preview.subject, "\n\n", answer.preview.text),
    h("button", { type: "button", id: "confirm-schedule", onclick: confirm }, `Confirm: schedule for ${when(answer.send_at)}`),
  );
}

async function scheduleForm() {
  const [segments, campaigns] = await Promise.all([api("/segments?limit=200"), api("/campaigns?limit=100")]);
  const form = h(
    "form",
    { class: "inline", id: "schedule", onsubmit: async (event) => {
      event.preventDefault();
      const body = { ...Object.fromEntries(new FormData(form)), timezone: TIME_ZONE };
      form.querySelectorAll(".error, #schedule-check").forEach((node) => node.remove());
      try {
        const answer = await api("/sends/check", { method: "POST", body });
        form.append(checked(answer, async () => {
          try {
            const send = await api("/sends", { method: "POST", body });
            go(`/sends/${encodeURIComponent(send.send_id)}`);
          } catch (error) {
            form.append(problem(error));
          }
        }));
        document.getElementById("confirm-schedule").focus();
      } catch (error) {
        form.append(problem(error));
      }
    } },
    h("label", {}, "Segment", h("select", { name: "segment_id", required: true }, (segments.items || []).map((g) => h("option", { value: g.segment_id }, g.name)))),
    h("label", {}, "Campaign", h("select", { name: "campaign_id", required: true }, (campaigns.items || []).map((c) => h("option", { value: c.campaign_id }, c.name)))),
    h("label", {}, "Channel", h("select", { name: "channel" }, [["email", "Email"], ["sms", "Text"], ["both", "Email and text"]].map(([v, t]) => h("option", { value: v }, t)))),
    h("label", {}, `When (${TIME_ZONE})`, h("select", { name: "send_at" }, slots().map(([v, t]) => h("option", { value: v }, t)))),
    h("button", { type: "submit" }, "Check"),
  );
  return (segments.items || []).length && (campaigns.items || []).length
    ? form
    : h("p", { class: "empty" }, "To schedule a send you need a segment and a campaign first.");
}

async function sendsView(query) {
  const [answer, schedule, segments] = await Promise.all([api(`/sends${qs(query)}`), scheduleForm(), api("/segments?limit=200")]);
  const names = Object.fromEntries((segments.items || []).map((g) => [g.segment_id, g.name]));
  show(
    h("h1", {}, "Sends"),
    h("h2", {}, "Schedule a send"),
    h("p", { class: "muted" }, "Times are on the hour, at least 2 hours ahead; check who it reaches and what it says, then confirm. A send can be canceled until 2 hours before."),
    schedule,
    h("h2", {}, "Activity"),
    filters("/sends", query, [
      ["segment_id", "Segment", [["", "Any"], ...Object.entries(names)]],
      ["status", "Status", [["", "Any"], ["scheduled", "Scheduled"], ["sending", "Sending"], ["done", "Done"], ["failed", "Failed"], ["canceled", "Canceled"]]],
    ]),
    table("Segment sends, newest first", [
      ["Send", (s) => h("a", { href: `#/sends/${encodeURIComponent(s.send_id)}` }, s.send_id)],
      ["Segment", (s) => h("a", { href: `#/sends?segment_id=${encodeURIComponent(s.segment_id)}` }, names[s.segment_id] || s.segment_id)],
      ["Status", (s) => badge(s.status, s.reason)],
      ["At", (s) => when(s.send_at)],
      ["Sent / failed", (s) => `${s.counts.sent ?? "—"} / ${s.counts.failed ?? "—"}`],
      ["Report", (s) => (s.report_url ? h("a", { href: s.report_url }, "Failure report") : "—")],
    ], answer.items, "No sends yet: schedule one to a segment above."),
    pager("/sends", query, answer.next),
  );
}

async function sendView(id, query) {
  const path = `/sends/${encodeURIComponent(id)}`;
  const [send, recipients] = await Promise.all([api(path), api(`${path}/recipients${qs(query)}`)]);
  const before = send.status === "scheduled"
    ? await Promise.all([api(`${path}/preview`), api(`${path}/preflight`)]).catch(() => [null, null])
    : [null, null];
  const [preview, preflight] = before;
  show(
    h("h1", {}, `Send ${send.send_id}`),
    h("dl", { class: "facts" },
      h("dt", {}, "Status"), h("dd", {}, badge(send.status, send.reason)),
      // a large send is counted over several housekeeping runs once SES has had its say
      send.counted != null ? h("dt", {}, "Finishing") : null,
      send.counted != null
        ? h("dd", {}, `${send.counted.toLocaleString()} of ${send.members?.toLocaleString() ?? "?"} recipients counted`)
        : null,
      h("dt", {}, "At"), h("dd", {}, when(send.send_at)),
      h("dt", {}, "Report"), h("dd", {}, send.report_url ? h("a", { href: send.report_url }, "Failure report (CSV)") : "—"),
    ),
    preflight ? h("h2", {}, "Preflight") : null,
    preflight ? h("pre", {}, JSON.stringify(preflight, null, 2)) : null,
    preview ? h("h2", {}, "Preview") : null,
    preview ? h("pre", {}, preview.subject || "", "\n\n", (send.channel === "sms" ? preview.sms : preview.text) || "") : null,
    send.status === "scheduled" ? h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => act(`${path}/cancel`) }, "Cancel send")) : null,
    h("h2", {}, "Tracker"),
    filters(path, query, [["status", "Status", [["", "Any"], ["initiated", "Initiated"], ["sent", "Sent"], ["opened", "Opened"], ["clicked", "Clicked"], ["redeemed", "Redeemed"], ["expired", "Expired"], ["released", "Released"], ["failed", "Failed"]]]]),
    table("Each recipient", [
      ["Recipient", (r) => h("a", { href: `#/customers/${encodeURIComponent(r.customer_id)}` }, r.email || r.phone || r.customer_id)],
      ["Status", (r) => badge(r.status)],
      ["Send issue", (r) => (r.issue ? badge(r.issue) : "—")],
    ], recipients.items, "No recipients on this page."),
    h("div", { class: "list-actions" }, pager(path, query, recipients.next), csvButton(`${path}/recipients`, query, `${send.send_id} recipients`)),
  );
}

async function suppressionsView() {
  const answer = await api("/suppressions");
  show(
    h("h1", {}, "Suppressions"),
    table("Addresses emails are not sent to", [
      ["Address", (s) => s.email],
      ["Reason", (s) => badge(s.reason)],
      ["Since", (s) => when(s.suppressed_at)],
      ["", (s) => h("button", { type: "button", class: "secondary", onclick: async () => {
        await api(`/suppressions/${encodeURIComponent(s.email)}`, { method: "DELETE" });
        render();
      } }, `Remove ${s.email}`)],
    ], answer.items || [], "No suppressed addresses: hard bounces and complaints land here."),
  );
}

const PROVIDER = "/integrations/email-provider";

async function providerStatus() {
  try {
    const provider = await api(PROVIDER);
    const list = provider.list_id ? `, list ${provider.list_id}` : provider.url ? `, ${provider.url}` : "";
    return h("div", { id: "provider" },
      h("p", {}, badge("connected"), ` ${provider.type}${list}, since ${when(provider.connected_at)}. Consenting claims are added to it; each claim's Integration status says how it went.`),
      h("button", { type: "button", class: "secondary", onclick: () => act(PROVIDER, "DELETE") }, "Disconnect"));
  } catch (error) {
    if (error.status !== 404) throw error;
    return h("div", { id: "provider" },
      h("p", { class: "empty" }, "No email provider is connected: connect Mailchimp or a webhook to add consenting customers to your list."),
      providerForm());
  }
}

function providerForm() {
  // Only the chosen type's fields are sent; the API names the field it refuses.
  const fields = {
    mailchimp: [["api_key", "Mailchimp API key", "password"], ["list_id", "Audience (list) id", "text"]],
    webhook: [["url", "Webhook URL (https)", "url"], ["secret", "Signing secret (16+ characters)", "password"]],
  };
  const inputs = h("div", { class: "inline" });
  const pick = (type) => inputs.replaceChildren(...fields[type].map(([name, label, kind]) =>
    h("label", {}, label, h("input", { name, type: kind, required: true, autocomplete: "off" }))));
  const form = h("form", { class: "inline", id: "connect-provider", onsubmit: async (event) => {
    event.preventDefault();
    const body = Object.fromEntries([...new FormData(form)].filter(([, value]) => value !== ""));
    try {
      await api(PROVIDER, { method: "PUT", body });
      render();
    } catch (error) {
      form.append(problem(error));
    }
  } },
    h("label", {}, "Provider", h("select", { name: "type", onchange: (event) => pick(event.target.value) },
      h("option", { value: "mailchimp" }, "Mailchimp"), h("option", { value: "webhook" }, "Webhook"))),
    inputs,
    h("button", { type: "submit" }, "Connect"),
  );
  pick("mailchimp");
  return form;
}

const NOTICE_WEBHOOK = "/settings/notice-webhook";

function noticeWebhook(webhook) {
  // The signing secret is in the answer that sets the webhook, and never again: shown until the page changes.
  const place = h("div", { id: "notice-webhook" });
  const setTo = async (url, form) => {
    try {
      const set = await api(NOTICE_WEBHOOK, { method: "PUT", body: { url } });
      place.replaceChildren(...noticeWebhook(set).childNodes, h("p", { class: "secret", role: "status" },
        "Signing secret (copy it now, it is not shown again): ", h("code", {}, set.secret)));
    } catch (error) {
      (form || place).append(problem(error));
    }
  };
  if (!webhook) {
    const form = h("form", { class: "inline", id: "set-notice-webhook", onsubmit: (event) => {
      event.preventDefault();
      setTo(new FormData(form).get("url"), form);
    } },
      h("label", {}, "Webhook URL (https)", h("input", { name: "url", type: "url", required: true })),
      h("button", { type: "submit" }, "Set webhook"));
    place.append(h("p", { class: "empty" }, "Notices go by email only. Set a webhook to have them posted, signed, to your systems too."), form);
    return place;
  }
  const result = h("p", { role: "status" });
  const test = async () => {
    try {
      const tried = await api(`${NOTICE_WEBHOOK}/test`, { method: "POST" });
      result.replaceChildren(tried.delivered ? badge("delivered", `HTTP ${tried.status}`) : badge("failed", tried.reason), ` test notice ${tried.id}`);
    } catch (error) {
      result.replaceChildren(problem(error));
    }
  };
  place.append(
    h("p", {}, `Notices are posted to ${webhook.url}, signed with the secret ending in ${webhook.secret_hint} (set ${when(webhook.set_at)}).`),
    h("div", { class: "list-actions" },
      h("button", { type: "button", onclick: test }, "Send a test notice"),
      h("button", { type: "button", class: "secondary", onclick: () => setTo(webhook.url) }, "New secret"),
      h("button", { type: "button", class: "secondary", onclick: () => act(NOTICE_WEBHOOK, "DELETE") }, "Remove")),
    result);
  return place;
}

async function settingsView() {
  const [settings, provider] = await Promise.all([api("/settings"), providerStatus()]);
  const form = h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await api("/settings", { method: "PATCH", body: { notification_email: data.get("notification_email"), message_event_retention_days: Number(data.get("retention")) } });
      form.append(h("p", { role: "status" }, "Saved."));
    } catch (error) {
      form.append(problem(error));
    }
  } },
    h("label", {}, "Notification email", h("input", { name: "notification_email", type: "email", value: settings.notification_email || "" })),
    h("label", {}, "Keep message events (days)", h("input", { name: "retention", type: "number", min: 1, max: 3650, value: settings.message_event_retention_days })),
    h("button", { type: "submit" }, "Save"),
  );
  show(h("h1", {}, "Settings"), form, h("h2", {}, "Notice webhook"), noticeWebhook(settings.notice_webhook),
    h("h2", {}, "Email provider"), provider);
}

async function outboxView() {
  const response = await fetch("outbox.json");
  const items = response.ok ? await response.json() : [];
  show(
    h("h1", {}, "Outbox (local stack)"),
    h("p", {}, "What the local SES and SNS accepted. Open an email to follow its coupon or unsubscribe link."),
    table("Newest first", [
      ["To", (m) => m.to],
      ["Subject", (m) => (m.has_body ? h("a", { href: `outbox/${encodeURIComponent(m.id)}` }, m.subject || "(no subject)") : m.subject || m.text || "—")],
      ["Channel", (m) => m.channel],
      ["Accepted", (m) => when(m.at)],
    ], items, "Nothing sent yet: claim a coupon and its email appears here."),
  );
}

// ---------------------------------------------------------------------------------------------

async function render() {
  if (!sessionStorage.getItem(KEY)) return signIn();
  nav.hidden = false;
  const { parts, query } = route();
  for (const link of nav.querySelectorAll("a")) {
    link.toggleAttribute("aria-current", `#/${parts[0] || "campaigns"}` === link.getAttribute("href"));
    if (link.hasAttribute("aria-current")) link.setAttribute("aria-current", "page");
  }
  const views = {
    campaigns: () => (parts[1] ? campaignView(parts[1], query) : campaignsView(query)),
    customers: () => (parts[1] ? customerView(parts[1]) : customersView(query)),
    sends: () => (parts[1] ? sendView(parts[1], query) : sendsView(query)),
    suppressions: suppressionsView,
    settings: settingsView,
    outbox: outboxView,
  };
  const view = views[parts[0]] || views.campaigns;
  try {
    await view();
  } catch (error) {
    if (error.status === 401 || error.status === 403) return signIn(error.message);
    show(h("h1", {}, "Something went wrong"), problem(error));
  }
}

document.getElementById("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  signIn();
});
fetch("config.json")
  .then((response) => (response.ok ? response.json() : {}))
  .catch(() => ({}))
  .then((loaded) => {
    config = { ...config, ...loaded };
    document.getElementById("outbox-link").hidden = !config.local;
    // Views follow the URL only once the API is known: a hash changed before that is rendered
    // here, once (a second render would replace a form already in use).
    window.addEventListener("hashchange", render);
    render();
  });
