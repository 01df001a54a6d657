// Builds each MCP Apps view into one self-contained HTML file: the view's script (with the official
// @modelcontextprotocol/ext-apps App class bundled in) and its stylesheet inline, a Content-Security-Policy that
// allows exactly those two and nothing from the network. The output is committed, so `pip install` needs no Node.
//
//   npm ci --prefix views && node views/build.mjs            writes the committed files
//   node views/build.mjs --out-dir DIR                        writes them under DIR instead (the staleness test)
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..");
const MAX_BYTES = 1_000_000;

// name, entry script, output path (from the repo's root), title
const TARGETS = [
  ["inventory", "src/inventory.js", "mcp_anyreach/server/views_html/inventory.html", "Telephony inventory"],
  ["call-route", "src/call-route.js", "mcp_anyreach/server/views_html/call-route.html", "A call's route"],
  ["change-set", "src/change-set.js", "mcp_anyreach/server/views_html/change-set.html", "Change set"],
  ["test-host", "test-host/host.js", "tests/views/host.html", "mcp-anyreach test host"],
];

function outDir() {
  const flag = process.argv.indexOf("--out-dir");
  return flag === -1 ? repo : resolve(process.argv[flag + 1]);
}

const sha256 = (text) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

async function bundle(entry) {
  const result = await build({
    entryPoints: [join(here, entry)],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "eof",
    charset: "utf8",
    write: false,
    logLevel: "warning",
  });
  const code = result.outputFiles[0].text;
  if (/<\/script/i.test(code)) throw new Error(`${entry}: the bundle contains </script and cannot be inlined`);
  return code;
}

function page(title, style, script, csp, body) {
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    csp ? `<meta http-equiv="Content-Security-Policy" content="${csp}">` : null,
    `<title>${title}</title>`,
    `<style>${style}</style>`,
    "</head>",
    "<body>",
    body,
    `<script>${script}</script>`,
    "</body>",
    "</html>",
    "",
  ]
    .filter((line) => line !== null)
    .join("\n");
}

const style = await readFile(join(here, "src/style.css"), "utf8");
const hostStyle = await readFile(join(here, "test-host/host.css"), "utf8");
const target = outDir();
for (const [name, entry, output, title] of TARGETS) {
  const script = await bundle(entry);
  const view = name !== "test-host";
  const css = view ? style : hostStyle;
  // Nothing but this page's own script and stylesheet runs; no request leaves the view (no fonts, no CDN).
  const csp = view
    ? `default-src 'none'; script-src ${sha256(script)}; style-src ${sha256(css)}; img-src data:; ` +
      "base-uri 'none'; form-action 'none'"
    : null;
  const html = page(title, css, script, csp, view ? '<main id="root"></main>' : '<div id="stage"></div>');
  const bytes = Buffer.byteLength(html, "utf8");
  if (view && bytes >= MAX_BYTES) throw new Error(`${name}: ${bytes} bytes, over the 1 MB a view may weigh`);
  const path = join(target, output);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, html, "utf8");
  console.log(`${relative(target, path)}  ${(bytes / 1024).toFixed(0)} KiB`);
}
