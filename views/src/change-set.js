// The change-set view, for plan_changes: the ordered steps with what each changes, the impact on callers
// highlighted, and an Approve button. Approving calls apply_changes like any other caller: the server's gate
// asks the human (or answers with a confirmation token), so the view can never apply anything on its own.
import { banner, callTool, count, h, mount, pill, plural, resultOf, startView } from "./common.js";

const root = document.getElementById("root");
const state = { plan: null, error: null, applying: false, outcome: null };
let app = null;

// Impact lines a telephony admin must not miss: callers left unanswered, outage windows, networks opened.
const RISKY = /nobody|unanswer|no agent|outage|fail|disconnect|dropped|released|warning|without authentication|accept calls from|any address/i;
const TONES = {
  delete_number: "danger",
  move_numbers: "warn",
  delete_trunk: "danger",
  delete_routing: "danger",
  unassign: "warn",
  register_number: "ok",
  create_trunk: "ok",
  create_routing: "ok",
  publish: "info",
};
const STATUS = {
  done: ["done", "ok"],
  failed: ["failed", "danger"],
  not_started: ["not started", "muted"],
};
const GATE = {
  done: ["ok", "Applied."],
  declined: ["warn", "Declined: nothing was changed."],
  cancelled: ["warn", "Cancelled: nothing was changed."],
  partial: ["danger", "Stopped part-way:"],
  confirmation_required: ["info", "Confirmation needed: ask the assistant to apply the plan after you agree; nothing was changed yet."],
};

const planId = (plan) => plan?.plan_id ?? plan?.id;
const label = (action) => String(action ?? "").replaceAll("_", " ");

function outcomes() {
  const result = state.outcome?.result;
  const rows = Array.isArray(result) ? result : result?.steps ?? result?.outcomes ?? [];
  return new Map(rows.filter((row) => row && row.n != null).map((row) => [row.n, row]));
}

const hasSubjects = (plan) => (plan.steps ?? []).some((step) => step.subject);
// A row with `last` stands for steps n to last (several numbers' moves between two trunks), so it counts as each.
const span = (step) => (step.last ?? step.n) - step.n + 1;
const stepCount = (plan) => (plan.steps ?? []).reduce((total, step) => total + span(step), 0);

// The outcome of a row: a failed step among its steps, else not started if one did not run, else done.
function outcomeOf(step, known) {
  const rows = Array.from({ length: span(step) }, (_, index) => known.get(step.n + index));
  return ["failed", "not_started"].map((status) => rows.find((row) => row?.status === status)).find(Boolean) ?? (rows.every(Boolean) ? rows[0] : null);
}

function stepRow(step, subjects) {
  const done = outcomeOf(step, outcomes());
  const [statusText, statusTone] = done ? STATUS[done.status] ?? [done.status, "muted"] : [null, null];
  return h(
    "tr",
    { "data-step": step.n },
    h("td", { class: "muted" }, step.last != null ? `${step.n}-${step.last}` : step.n),
    h("td", null, pill(label(step.action), TONES[step.action] ?? "muted")),
    subjects ? h("td", { class: "mono" }, step.subject ?? "") : null,
    h("td", null, step.detail ?? "", done?.cause ? h("div", { class: "cause" }, done.cause) : null),
    h("td", null, statusText ? pill(statusText, statusTone) : null),
  );
}

function impactList(plan) {
  const lines = [...(plan.impact ?? [])];
  if (!lines.length) return h("p", { class: "muted" }, "No caller notices this change.");
  return h(
    "ul",
    { class: "impact" },
    lines.map((line) => h("li", { class: RISKY.test(line) ? "risk" : "" }, RISKY.test(line) ? pill("risk", "high") : null, " ", line)),
  );
}

function applied() {
  const report = state.outcome?.result;
  if (!report || Array.isArray(report) || report.done == null) return null;
  const line = `${plural(report.done, "step")} done, ${count(report.failed ?? 0)} failed, ${count(report.not_started ?? 0)} not started.`;
  return h("p", { class: "applied" }, line, report.next ? ` ${report.next}` : "");
}

function expiry(plan) {
  const seconds = plan.expires_in_seconds;
  return typeof seconds === "number" ? `, valid for ${plural(Math.max(1, Math.round(seconds / 60)), "minute")}` : "";
}

function approveBar(plan) {
  const steps = plan.steps ?? [];
  if (!steps.length) return banner("Nothing to do: the account already matches.", "ok");
  const gate = state.outcome ? GATE[state.outcome.status] ?? ["warn", state.outcome.status] : null;
  return h(
    "div",
    { class: "approve" },
    gate ? banner(state.outcome.message ? `${gate[1]} ${state.outcome.message}` : gate[1], gate[0]) : null,
    applied(),
    h(
      "div",
      { class: "approve-row" },
      h("span", { class: "muted" }, `The server asks you to confirm before anything changes (plan ${planId(plan) ?? "?"}${expiry(plan)}).`),
      h(
        "button",
        { type: "button", class: "primary", disabled: state.applying || state.outcome?.status === "done", onclick: approve },
        state.applying ? "Waiting for confirmation…" : `Approve ${plural(stepCount(plan), "step")}`,
      ),
    ),
  );
}

function render() {
  const plan = state.plan;
  mount(
    root,
    h("header", { class: "title" }, h("h1", null, "Change set"), plan ? h("span", { class: "muted" }, plan.summary ?? "") : null),
    state.error ? banner(state.error) : null,
    plan
      ? [
          h("h2", null, "Impact"),
          impactList(plan),
          h("h2", null, `Steps (${count(stepCount(plan))}, in this order)`),
          (plan.steps ?? []).length
            ? h(
                "table",
                { class: "steps" },
                h("thead", null, h("tr", null, ["#", "Action", hasSubjects(plan) && "Subject", "What changes", "Result"].filter(Boolean).map((t) => h("th", null, t)))),
                h("tbody", null, plan.steps.map((step) => stepRow(step, hasSubjects(plan)))),
              )
            : null,
          plan.steps_not_listed ? h("p", { class: "muted" }, `${plural(plan.steps_not_listed, "more step")} not listed.`) : null,
          (plan.notes ?? []).length ? [h("h2", null, "Notes"), h("ul", { class: "notes" }, plan.notes.map((note) => h("li", null, note)))] : null,
          approveBar(plan),
        ]
      : state.error
        ? null
        : h("p", { class: "muted" }, "Planning…"),
  );
}

async function approve() {
  state.applying = true;
  state.error = null;
  render();
  try {
    state.outcome = await callTool(app, "apply_changes", { plan_id: planId(state.plan) });
  } catch (error) {
    state.error = `Not applied: ${error.message}`;
  }
  state.applying = false;
  render();
}

render();
startView("change-set", {
  onResult(result) {
    try {
      state.plan = resultOf(result, "plan_changes");
      state.outcome = null;
      state.error = null;
    } catch (error) {
      state.error = error.message;
    }
    render();
  },
  onCancelled(reason) {
    state.error = `Planning was cancelled${reason ? `: ${reason}` : ""}.`;
    render();
  },
})
  .then((connected) => {
    app = connected;
  })
  .catch((error) => {
    state.error = `Could not connect to the host: ${error.message}`;
    render();
  });
