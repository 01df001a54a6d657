// What every view shares: the connection to the host (the official App class), the host's theme, DOM helpers.
import { App, applyDocumentTheme, applyHostStyleVariables } from "@modelcontextprotocol/ext-apps";

export const SEVERITIES = ["high", "medium", "low", "info"];

/** An element; text children are text nodes, never parsed as HTML, so data from the API cannot inject markup. */
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export const count = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : "—");
export const plural = (n, one, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;
/** A long id, shortened for the eye; the whole id stays in the title attribute. */
export const shortId = (id) => (typeof id === "string" && id.length > 14 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id ?? "");

export function pill(text, tone) {
  return h("span", { class: `pill ${tone ?? ""}` }, text);
}

export function banner(message, tone = "danger") {
  return h("div", { class: `banner ${tone}`, role: tone === "danger" ? "alert" : "status" }, message);
}

function applyHostContext(context) {
  if (!context) return;
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables);
}

/**
 * Connects to the host and hands the view what the host sends: the tool's arguments and its result.
 * The host renders the view for a tool call; hosts without MCP Apps never load it.
 */
export async function startView(name, { onInput, onResult, onCancelled }) {
  const app = new App({ name: `anyreach-${name}`, version: "1.0.0" }, {}, { autoResize: true });
  app.ontoolinput = (params) => {
    const named = params.arguments?.organization;
    organization = typeof named === "string" && named !== "all" ? named : undefined;
    inputArrived();
    onInput?.(params.arguments ?? {});
  };
  app.ontoolresult = (result) => onResult?.(result);
  app.ontoolcancelled = (params) => onCancelled?.(params.reason);
  app.onhostcontextchanged = applyHostContext;
  app.onteardown = async () => ({});
  await app.connect();
  applyHostContext(app.getHostContext());
  return app;
}

function textOf(result) {
  return (result?.content ?? [])
    .filter((block) => block.type === "text")
    .map((block) => block.text)
    .join("\n");
}

/** A tool's structured result; a tool error becomes an Error carrying the server's words. */
export function resultOf(result, tool) {
  if (result?.isError) throw new Error(textOf(result) || `${tool} failed`);
  if (result?.structuredContent) return result.structuredContent;
  try {
    return JSON.parse(textOf(result));
  } catch {
    throw new Error(`${tool} returned no structured result`);
  }
}

/**
 * The organization the model's call named, on a server of several: the view's own calls and reads act there too,
 * never in another one.
 */
let organization;
let inputArrived;
const inputSeen = new Promise((resolve) => {
  inputArrived = resolve;
});

/** Once the view knows which organization its reads act in: a view drawn for a tool call waits for the call's input. */
export async function organizationKnown(app) {
  if (app.getHostContext()?.toolInfo) await inputSeen;
}

/** Calls one of this server's tools through the host: the same tool, gate and audit log as the model's calls. */
export async function callTool(app, name, args) {
  const within = organization === undefined ? args : { organization, ...args };
  return resultOf(await app.callServerTool({ name, arguments: within }), name);
}

export function canReadResources(app) {
  return Boolean(app.getHostCapabilities()?.serverResources);
}

/** One of this server's JSON resources, read through the host. */
export async function readJson(app, uri) {
  const within = organization === undefined ? uri : uri.replace("anyreach://", `anyreach://organizations/${encodeURIComponent(organization)}/`);
  const { contents } = await app.readServerResource({ uri: within });
  const text = contents?.[0]?.text;
  if (typeof text !== "string") throw new Error(`${within} returned no text`);
  return JSON.parse(text);
}

/** `agv_…` version ids and `agt_…` agent ids to "Support v2" / "Support", from the anyreach://agents resource. */
export function agentLabels(agents) {
  const versions = new Map();
  const names = new Map();
  for (const agent of agents ?? []) {
    names.set(agent.id, agent.name);
    for (const version of agent.versions ?? []) versions.set(version.id, `${agent.name} v${version.version}`);
  }
  return {
    version: (id) => (id ? versions.get(id) ?? shortId(id) : null),
    agent: (id) => (id ? names.get(id) ?? shortId(id) : null),
  };
}

export const NO_LABELS = agentLabels([]);

/** Replaces the children of `root` with a fresh rendering. */
export function mount(root, ...children) {
  root.replaceChildren(...children.flat().filter(Boolean));
}
