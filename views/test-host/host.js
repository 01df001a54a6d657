// A minimal MCP Apps host for the tests: the official AppBridge (from @modelcontextprotocol/ext-apps) talks to the
// view in a sandboxed iframe, and every tool call or resource read the view makes is forwarded to
// window.anyreachServer(method, params), which the test binds to a real MCP client of a real server.
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

const THEMES = {
  light: {
    "--color-background-primary": "#ffffff",
    "--color-background-secondary": "#f4f3ef",
    "--color-text-primary": "#1a1915",
    "--color-text-secondary": "#5e5d59",
    "--color-border-primary": "#d9d7cf",
    "--color-border-secondary": "#e9e7e1",
    "--font-sans": "system-ui, sans-serif",
  },
  dark: {
    "--color-background-primary": "#262624",
    "--color-background-secondary": "#30302e",
    "--color-text-primary": "#f5f4ef",
    "--color-text-secondary": "#b8b5a9",
    "--color-border-primary": "#4a4943",
    "--color-border-secondary": "#3a3935",
    "--font-sans": "system-ui, sans-serif",
  },
};

window.hostLog = [];

async function forward(method, params) {
  const answer = await window.anyreachServer(method, params);
  if (answer && answer.error) throw new Error(answer.error);
  return answer;
}

/** Renders `html` for one tool call, as a host does: initialize, then the call's input and result. */
window.showView = async ({ html, tool, input, result, theme = "light" }) => {
  document.documentElement.dataset.theme = theme;
  const frame = document.createElement("iframe");
  frame.setAttribute("sandbox", "allow-scripts");
  frame.title = tool;
  document.getElementById("stage").replaceChildren(frame);
  const hostContext = {
    theme,
    styles: { variables: THEMES[theme] },
    displayMode: "inline",
    availableDisplayModes: ["inline"],
    platform: "web",
    locale: "en-US",
    containerDimensions: { maxHeight: 6000, width: 900 },
    toolInfo: { tool: { name: tool, inputSchema: { type: "object" } } },
  };
  const bridge = new AppBridge(
    null,
    { name: "anyreach-test-host", version: "1.0.0" },
    { serverTools: {}, serverResources: {}, logging: {} },
    { hostContext },
  );
  bridge.oncalltool = (params) => forward("tools/call", params);
  bridge.onreadresource = (params) => forward("resources/read", params);
  bridge.addEventListener("sizechange", ({ height }) => {
    if (height) frame.style.height = `${Math.ceil(height)}px`;
  });
  bridge.addEventListener("loggingmessage", (params) => window.hostLog.push(params));
  const ready = new Promise((resolve) => bridge.addEventListener("initialized", resolve));
  await bridge.connect(new PostMessageTransport(frame.contentWindow, frame.contentWindow));
  frame.srcdoc = html;
  await ready;
  await bridge.sendToolInput({ arguments: input ?? {} });
  if (result) await bridge.sendToolResult(result);
  window.bridge = bridge;
};
