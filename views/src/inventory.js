// The inventory view, for audit_inventory and anyreach://inventory: numbers grouped by trunk with who answers
// each, the routing state, and the findings by severity. A trunk's numbers are read one page at a time, so an
// account of thousands of numbers never becomes one giant table; a small account opens every trunk at once, so
// who answers each number shows without a click.
import {
  NO_LABELS,
  SEVERITIES,
  agentLabels,
  banner,
  callTool,
  canReadResources,
  count,
  h,
  mount,
  organizationKnown,
  pill,
  plural,
  readJson,
  resultOf,
  shortId,
  startView,
} from "./common.js";

const PAGE = 25;
const OPEN_UP_TO = 50; // numbers in the whole account: every trunk opens, each on a single page
const KINDS = [
  ["managed", "Managed trunks", "bought through Anyreach"],
  ["byoc", "BYOC trunks", "your own carrier"],
  ["unknown", "Unknown trunks", "numbers whose trunk is not listed"],
];
const ROUTING = {
  enabled: ["Enabled", "ok"],
  disabled: ["Disabled", "warn"],
  none: ["Not set up", "warn"],
};

const state = {
  report: null, // audit_inventory's result, or the inventory resource: counts, routing, findings
  trunks: null, // numbers_per_trunk, from the inventory resource
  trunksNotListed: 0,
  labels: NO_LABELS,
  severity: "all",
  pages: new Map(), // trunk id -> {cursors, index, size, rows, loading, error}
  loading: true,
  error: null,
};
let app = null;
const root = document.getElementById("root");

function severityCounts() {
  if (state.report?.counts) return state.report.counts;
  const counts = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0]));
  const severityOf = new Map();
  for (const finding of state.report?.findings ?? []) {
    counts[finding.severity] += finding.subjects?.length ?? 1;
    severityOf.set(finding.code, finding.severity);
  }
  for (const [code, more] of Object.entries(state.report?.findings_not_listed ?? {})) {
    const severity = severityOf.get(code);
    if (severity) counts[severity] += more;
  }
  return counts;
}

function header() {
  return h(
    "header",
    { class: "title" },
    h("h1", null, "Telephony inventory"),
    state.report?.sandbox ? pill("Sandbox: demo data", "info") : null,
  );
}

function stats() {
  const org = state.report?.organization;
  const routing = state.report?.routing;
  const [routingText, routingTone] = ROUTING[routing?.state] ?? ["—", ""];
  const counts = severityCounts();
  const fallback = routing?.fallback_agent_id ? state.labels.agent(routing.fallback_agent_id) : null;
  return h(
    "section",
    { class: "stats", "aria-label": "Summary" },
    h("div", { class: "stat" }, h("div", { class: "label" }, "Phone numbers"), h("div", { class: "value", "data-testid": "numbers" }, count(org?.numbers))),
    h(
      "div",
      { class: "stat" },
      h("div", { class: "label" }, "SIP trunks"),
      h("div", { class: "value" }, count(org?.trunks)),
      h("div", { class: "sub" }, `${count(org?.managed_trunks)} managed · ${count(org?.byoc_trunks)} BYOC`),
    ),
    h(
      "div",
      { class: "stat" },
      h("div", { class: "label" }, "Inbound routing"),
      h("div", { class: "value" }, pill(routingText, routingTone)),
      routing?.workflow_id ? h("div", { class: "sub" }, `workflow ${routing.workflow_id}`) : null,
      routing?.state === "enabled"
        ? h("div", { class: "sub" }, fallback ? `fallback: ${fallback}` : "no fallback agent")
        : null,
    ),
    h(
      "div",
      { class: "stat" },
      h("div", { class: "label" }, "Findings"),
      h("div", { class: "pills" }, SEVERITIES.map((severity) => pill(`${count(counts[severity])} ${severity}`, counts[severity] ? severity : "muted"))),
    ),
  );
}

function numbersTable(trunk) {
  const page = state.pages.get(trunk.trunk_id);
  if (!page) return null;
  if (page.error) return banner(page.error);
  if (!page.rows) return h("p", { class: "muted" }, "Loading numbers…");
  const first = page.index * page.size + 1;
  const last = page.index * page.size + page.rows.length;
  const body = page.rows.map((number) =>
    h(
      "tr",
      null,
      h("td", { class: "mono" }, number.phone_number),
      h("td", null, state.labels.version(number.inbound_agent_version_id) ?? h("span", { class: "muted" }, "nobody")),
      h("td", null, state.labels.version(number.outbound_agent_version_id) ?? h("span", { class: "muted" }, "none")),
      h("td", null, number.outbound_shareable ? pill("shared", "warn") : h("span", { class: "muted" }, "no")),
    ),
  );
  return h(
    "div",
    { class: "numbers" },
    h(
      "table",
      null,
      h("thead", null, h("tr", null, ["Number", "Inbound agent", "Outbound agent", "Shared outbound"].map((t) => h("th", null, t)))),
      h("tbody", null, body),
    ),
    h(
      "div",
      { class: "pager" },
      h("span", { class: "muted" }, page.rows.length ? `${count(first)}–${count(last)} of ${count(trunk.numbers)}` : "No numbers"),
      h("button", { type: "button", disabled: page.loading || page.index === 0, onclick: () => turn(trunk, -1) }, "‹ Previous"),
      h("button", { type: "button", disabled: page.loading || !page.cursors[page.index + 1], onclick: () => turn(trunk, 1) }, "Next ›"),
    ),
  );
}

function trunkRow(trunk) {
  const open = state.pages.has(trunk.trunk_id);
  return h(
    "li",
    { class: "trunk", "data-trunk": trunk.trunk_id },
    h(
      "div",
      { class: "trunk-head" },
      h("span", { class: "trunk-name", title: trunk.trunk_id }, trunk.name ?? `Trunk ${shortId(trunk.trunk_id)}`),
      h("span", { class: "muted" }, plural(trunk.numbers, "number")),
      trunk.numbers
        ? h(
            "button",
            { type: "button", "aria-expanded": open ? "true" : "false", onclick: () => toggle(trunk) },
            open ? "Hide numbers" : "Show numbers",
          )
        : h("span", { class: "muted" }, "no numbers"),
    ),
    open ? numbersTable(trunk) : null,
  );
}

function trunksSection() {
  if (!state.trunks) {
    return h("section", null, h("h2", null, "Numbers by trunk"), h("p", { class: "muted" }, state.loading ? "Reading the inventory…" : "Not available from this host."));
  }
  const groups = KINDS.map(([kind, title, note]) => {
    const trunks = state.trunks.filter((trunk) => trunk.kind === kind);
    if (!trunks.length) return null;
    const numbers = trunks.reduce((sum, trunk) => sum + (trunk.numbers ?? 0), 0);
    return h(
      "div",
      { class: "group", "data-kind": kind },
      h("h3", null, title, " ", h("span", { class: "muted" }, `${note} · ${plural(trunks.length, "trunk")} · ${plural(numbers, "number")}`)),
      h("ul", { class: "trunks" }, trunks.map(trunkRow)),
    );
  });
  return h(
    "section",
    null,
    h("h2", null, "Numbers by trunk"),
    groups,
    state.trunksNotListed ? h("p", { class: "muted" }, `${plural(state.trunksNotListed, "more trunk")} not listed.`) : null,
  );
}

function findingsSection() {
  const counts = severityCounts();
  const findings = (state.report?.findings ?? []).filter((finding) => state.severity === "all" || finding.severity === state.severity);
  const total = SEVERITIES.reduce((sum, severity) => sum + (counts[severity] ?? 0), 0);
  const filters = [["all", total], ...SEVERITIES.map((severity) => [severity, counts[severity] ?? 0])].map(([severity, n]) =>
    h(
      "button",
      { type: "button", class: "filter", "aria-pressed": state.severity === severity ? "true" : "false", onclick: () => setSeverity(severity) },
      `${severity === "all" ? "All" : severity[0].toUpperCase() + severity.slice(1)} (${count(n)})`,
    ),
  );
  const notListed = Object.entries(state.report?.findings_not_listed ?? {}).filter(([code]) =>
    state.severity === "all" || (state.report?.findings ?? []).some((finding) => finding.code === code && finding.severity === state.severity),
  );
  return h(
    "section",
    null,
    h("h2", null, "Findings"),
    h("div", { class: "filters", role: "group", "aria-label": "Filter by severity" }, filters),
    findings.length
      ? h(
          "ul",
          { class: "findings" },
          findings.map((finding) =>
            h(
              "li",
              { class: "finding" },
              pill(finding.severity, finding.severity),
              h("span", { class: "message" }, finding.message),
              h("span", { class: "subjects" }, (finding.subjects ?? []).join(", ")),
              finding.fix ? h("span", { class: "fix" }, "fix: ", h("code", null, finding.fix)) : null,
            ),
          ),
        )
      : h("p", { class: "muted" }, state.report ? "Nothing to show at this severity." : "Waiting for the audit…"),
    notListed.map(([code, more]) => h("p", { class: "muted" }, `${plural(more, "more finding")} of ${code} not listed.`)),
  );
}

function render() {
  mount(root, header(), state.error ? banner(state.error) : null, stats(), trunksSection(), findingsSection());
}

function setSeverity(severity) {
  state.severity = severity;
  render();
}

async function loadPage(trunk, index) {
  const page = state.pages.get(trunk.trunk_id);
  page.loading = true;
  render();
  try {
    const listing = await callTool(app, "list_phone_numbers", { trunk_id: trunk.trunk_id, limit: page.size, cursor: page.cursors[index] ?? undefined });
    page.rows = listing.items ?? [];
    page.index = index;
    page.cursors[index + 1] = listing.next_cursor ?? null;
    page.error = null;
  } catch (error) {
    page.error = `Could not read the numbers of this trunk: ${error.message}`;
  }
  page.loading = false;
  render();
}

function open(trunk, size) {
  state.pages.set(trunk.trunk_id, { cursors: [null], index: 0, size, rows: null, loading: false, error: null });
  loadPage(trunk, 0);
}

function toggle(trunk) {
  if (state.pages.has(trunk.trunk_id)) {
    state.pages.delete(trunk.trunk_id);
    render();
    return;
  }
  open(trunk, PAGE);
}

function openSmallAccount() {
  const listed = state.trunks.reduce((sum, trunk) => sum + (trunk.numbers ?? 0), 0);
  const total = Math.max(listed, state.report?.organization?.numbers ?? 0);
  if (state.trunksNotListed || total > OPEN_UP_TO) return;
  for (const trunk of state.trunks) if (trunk.numbers) open(trunk, OPEN_UP_TO);
}

function turn(trunk, step) {
  const page = state.pages.get(trunk.trunk_id);
  loadPage(trunk, page.index + step);
}

async function loadInventory() {
  if (!canReadResources(app)) {
    state.loading = false;
    render();
    return;
  }
  const [inventory, agents] = await Promise.allSettled([readJson(app, "anyreach://inventory"), readJson(app, "anyreach://agents")]);
  if (agents.status === "fulfilled") state.labels = agentLabels(agents.value);
  if (inventory.status === "fulfilled") {
    const value = inventory.value;
    state.trunks = value.numbers_per_trunk ?? [];
    state.trunksNotListed = value.trunks_not_listed ?? 0;
    state.report = value;
    openSmallAccount();
  } else {
    state.error = `Could not read the inventory: ${inventory.reason?.message ?? inventory.reason}`;
  }
  state.loading = false;
  render();
}

render();
startView("inventory", {
  onResult(result) {
    try {
      // Paint the audit at once; the inventory resource then adds the trunks and replaces these counts.
      const report = resultOf(result, "audit_inventory");
      if (Array.isArray(report.organizations)) {
        // organization "all": one audit per organization, and no one inventory to draw.
        const named = report.organizations.map((each) => each.in_organization).join(", ");
        state.error = `This audit covers ${plural(report.organizations.length, "organization")} (${named}): ask for one organization's audit to draw its inventory.`;
      } else if (!state.trunks) state.report = report;
    } catch (error) {
      state.error = error.message;
    }
    render();
  },
  onCancelled(reason) {
    state.error = `The audit was cancelled${reason ? `: ${reason}` : ""}.`;
    render();
  },
})
  .then(async (connected) => {
    app = connected;
    await organizationKnown(app);
    return loadInventory();
  })
  .catch((error) => {
    state.error = `Could not connect to the host: ${error.message}`;
    state.loading = false;
    render();
  });
