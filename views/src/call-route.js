// The call-route view, for explain_inbound_call: caller → number → trunk → routing (workflow, fallback) → agent,
// or the hop where the call is dropped and why, drawn from the steps the explanation cites.
import { banner, h, mount, pill, resultOf, startView } from "./common.js";

const root = document.getElementById("root");
const state = { input: {}, explanation: null, error: null };

// Where each outcome stops the call, and how it reads.
const OUTCOMES = {
  answered: { tone: "ok", title: "Answered", stop: null },
  depends_on_caller: { tone: "warn", title: "Answered for allowed callers only", stop: null },
  reaches_inactive_agent: { tone: "danger", title: "Reaches a switched-off agent", stop: "agent" },
  workflow_decides: { tone: "info", title: "The workflow decides", stop: null },
  dropped: { tone: "danger", title: "Dropped", stop: "agent" },
  not_admitted: { tone: "danger", title: "Refused by the trunk", stop: "trunk" },
  not_in_directory: { tone: "danger", title: "Not in the directory", stop: "number" },
};
const HOPS = ["caller", "number", "trunk", "routing", "agent"];

function findings(steps, ...checks) {
  return steps.filter((step) => checks.includes(step.check));
}

function hop(name, title, value, notes, tone) {
  return h(
    "li",
    { class: `hop ${tone}`, "data-hop": name },
    h("div", { class: "hop-title" }, title),
    h("div", { class: "hop-value" }, value),
    notes.map((step) => h("p", { class: "hop-note" }, step.finding, step.source ? h("span", { class: "source" }, ` (${step.source})`) : null)),
  );
}

function diagram(explanation) {
  const steps = explanation.steps ?? [];
  const outcome = OUTCOMES[explanation.outcome] ?? { tone: "warn", title: explanation.outcome ?? "Unknown", stop: null };
  const stopAt = outcome.stop ? HOPS.indexOf(outcome.stop) : HOPS.length;
  const tone = (name) => {
    const index = HOPS.indexOf(name);
    if (index < stopAt) return "passed";
    return index === stopAt ? "stopped" : "skipped";
  };
  const routing = findings(steps, "routing", "workflow", "fallback");
  const answers = explanation.outcome === "answered" || explanation.outcome === "depends_on_caller";
  const agentValue =
    answers || explanation.outcome === "reaches_inactive_agent"
      ? agentName(explanation.agent) ?? "an agent"
      : explanation.outcome === "workflow_decides"
        ? explanation.fallback_agent
          ? `picked at call time; fallback ${agentName(explanation.fallback_agent)}`
          : "picked at call time; no fallback"
        : "nobody";
  const caller = explanation.caller_number ?? state.input.caller_number;
  return h(
    "ol",
    { class: "route", "aria-label": "The call's route" },
    hop("caller", "Caller", caller ?? (explanation.outcome === "depends_on_caller" ? "an allowed caller" : "any caller"), [], "passed"),
    hop("number", "Number", explanation.phone_number, findings(steps, "directory"), tone("number")),
    hop("trunk", "Trunk", stopAt <= HOPS.indexOf("number") ? "—" : trunkName(steps), findings(steps, "trunk"), tone("trunk")),
    hop("routing", "Routing", routingValue(routing, stopAt), routing, tone("routing")),
    hop("agent", answers || explanation.outcome === "workflow_decides" ? "Agent" : "Answered by", agentValue, findings(steps, "number_agent"), agentTone(explanation.outcome, tone("agent"))),
  );
}

/** "agent 'Support' v2 (agt_…, inactive)" reads as "Support v2 (inactive)" under the Agent heading. */
function agentName(label) {
  if (typeof label !== "string") return label;
  const [, name, version, note] = label.match(/^(?:agent )?'(.*)'( v\d+)?(?: \(([^)]*)\))?$/) ?? [];
  if (name === undefined) return label.replace(/^agent /, "");
  const inactive = note?.includes("inactive") ? " (inactive)" : "";
  return `${name}${version ?? ""}${inactive}`;
}

function agentTone(outcome, otherwise) {
  if (outcome === "answered" || outcome === "depends_on_caller") return "answered";
  return outcome === "dropped" || outcome === "reaches_inactive_agent" ? "stopped" : otherwise;
}

function trunkName(steps) {
  const finding = findings(steps, "trunk")[0]?.finding ?? "";
  const named = finding.match(/(managed|byoc) trunk (['"])(.*?)\2/i);
  return named ? `${named[3]} (${named[1].toLowerCase() === "managed" ? "managed" : "BYOC"})` : "the number's trunk";
}

function routingValue(routing, stopAt) {
  if (stopAt <= HOPS.indexOf("trunk")) return "—";
  const first = routing[0]?.finding ?? "";
  if (/enabled/i.test(first)) return "workflow";
  if (/disabled/i.test(first)) return "disabled: the number's own agent";
  if (/no inbound routing/i.test(first)) return "none: the number's own agent";
  return "—";
}

function render() {
  const explanation = state.explanation;
  const outcome = explanation ? OUTCOMES[explanation.outcome] ?? { tone: "warn", title: explanation.outcome } : null;
  mount(
    root,
    h(
      "header",
      { class: "title" },
      h("h1", null, "Who answers a call to ", h("span", { class: "mono" }, explanation?.phone_number ?? state.input.phone_number ?? "…")),
      outcome ? pill(outcome.title, outcome.tone) : null,
    ),
    state.error ? banner(state.error) : null,
    explanation ? h("p", { class: "answer" }, explanation.answer) : state.error ? null : h("p", { class: "muted" }, "Tracing the call…"),
    explanation?.fix ? h("p", { class: "answer" }, `Fix: ${explanation.fix}`) : null,
    explanation ? diagram(explanation) : null,
  );
}

render();
startView("call-route", {
  onInput(args) {
    state.input = args;
    render();
  },
  onResult(result) {
    try {
      state.explanation = resultOf(result, "explain_inbound_call");
      state.error = null;
    } catch (error) {
      state.error = error.message;
    }
    render();
  },
  onCancelled(reason) {
    state.error = `The call was cancelled${reason ? `: ${reason}` : ""}.`;
    render();
  },
}).catch((error) => {
  state.error = `Could not connect to the host: ${error.message}`;
  render();
});
