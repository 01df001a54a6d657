// An independent MCP client: the official TypeScript SDK drives mcp-anyreach over stdio or streamable HTTP.
//
//   node client.mjs stdio <command> [args...]     spawn the server and talk over its stdin/stdout
//   node client.mjs http <url>                    talk to a running streamable-HTTP server
//
// It lists tools, calls a read tool, buys a number by answering the server's elicitation (searching first),
// and reads resources. It prints a JSON summary on stdout and exits non-zero on any failure.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const TIMEOUT_MS = 60_000;
const AREA_CODE = "415";

function fail(message) {
  throw new Error(message);
}

function transportFor(kind, rest) {
  if (kind === "stdio" && rest.length > 0) {
    const [command, ...args] = rest;
    return new StdioClientTransport({ command, args, env: getDefaultEnvironment(), stderr: "pipe" });
  }
  if (kind === "http" && rest.length === 1) {
    return new StreamableHTTPClientTransport(new URL(rest[0]));
  }
  fail("usage: node client.mjs stdio <command> [args...] | node client.mjs http <url>");
}

function textOf(result) {
  return result.content.map((block) => block.text ?? "").join(" ");
}

async function callTool(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) fail(`${name} failed: ${textOf(result)}`);
  if (!result.structuredContent) fail(`${name} returned no structured content`);
  return result.structuredContent;
}

async function readJson(client, uri) {
  const { contents } = await client.readResource({ uri });
  if (contents.length !== 1 || typeof contents[0].text !== "string") fail(`${uri}: expected one text content`);
  return JSON.parse(contents[0].text);
}

async function run(kind, rest) {
  const client = new Client({ name: "anyreach-node-check", version: "1.0.0" }, { capabilities: { elicitation: {} } });
  const asked = [];
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    asked.push(request.params.message);
    return { action: "accept", content: { confirm: true } };
  });
  await client.connect(transportFor(kind, rest));
  try {
    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    for (const name of ["list_phone_numbers", "search_available_numbers", "purchase_phone_number"]) {
      if (!tools.includes(name)) fail(`tools/list lacks ${name}`);
    }

    const listing = await callTool(client, "list_phone_numbers", { limit: 2 });
    if (!Array.isArray(listing.items) || listing.items.length === 0) fail("list_phone_numbers returned no numbers");

    const offers = (await callTool(client, "search_available_numbers", { area_code: AREA_CODE, limit: 1 })).items;
    if (!Array.isArray(offers) || offers.length === 0) fail(`no number offered in area code ${AREA_CODE}`);
    const number = offers[0].phone_number;

    const purchase = await callTool(client, "purchase_phone_number", { phone_number: number });
    if (purchase.status !== "done") fail(`purchase_phone_number: ${purchase.status}: ${purchase.message}`);
    if (asked.length !== 1 || !asked[0].includes(number)) fail(`expected one question naming ${number}: ${asked}`);

    const directory = await readJson(client, "anyreach://phone-numbers");
    if (!directory.some((row) => row.phone_number === number)) fail(`${number} is not in anyreach://phone-numbers`);
    const inventory = await readJson(client, "anyreach://inventory");
    if (inventory.sandbox !== true) fail("anyreach://inventory does not say it is the sandbox");

    return {
      ok: true,
      transport: kind,
      server: client.getServerVersion(),
      tools: tools.length,
      listed_numbers: listing.items.length,
      purchased: number,
      elicitations: asked.length,
      directory_size: directory.length,
      inventory_numbers: inventory.organization.numbers,
    };
  } finally {
    await client.close();
  }
}

const [kind, ...rest] = process.argv.slice(2);
const timer = setTimeout(() => {
  console.log(JSON.stringify({ ok: false, transport: kind, error: `timed out after ${TIMEOUT_MS} ms` }));
  process.exit(2);
}, TIMEOUT_MS);
try {
  console.log(JSON.stringify(await run(kind, rest)));
  clearTimeout(timer);
} catch (error) {
  console.log(JSON.stringify({ ok: false, transport: kind, error: String(error?.stack ?? error) }));
  process.exit(1);
}
