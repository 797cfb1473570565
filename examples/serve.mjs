// A static server for the example pages (no dependencies beyond Node's own modules):
//
//   LATCH_PUBLIC_TOKEN=public-token-test-… node examples/serve.mjs
//
// serves examples/*.html, *.js, *.css and *.png, the official @stytch/vanilla-js IIFE bundles
// unchanged from node_modules/@stytch/vanilla-js/dist/iife/ under /vendor/stytch/ (e.g.
// /vendor/stytch/b2b/index.js, /vendor/stytch/index.js), and /config.js, which tells the pages
// the public token and where Latch is. Environment:
//
//   LATCH_PUBLIC_TOKEN    the public token `latch serve` prints (pages also take ?public_token=)
//   LATCH_SDK_BASE_URL    customBaseUrl for the SDK (default https://localhost; the SDK keeps
//                         only the host name and calls it over HTTPS on port 443)
//   LATCH_DEMO_ORG_SLUG   the organization the B2B page opens when its URL has no ?org= (default demo)
//   EXAMPLES_HOST, EXAMPLES_PORT   where to listen (default 127.0.0.1:8080; the page origin
//                         http://localhost:8080 must be on Latch's LATCH_SDK_ORIGINS)
//   STYTCH_IIFE_DIR       another copy of dist/iife to serve (the browser suite passes its own)
//
// The browser suite (tests/browser) imports createExampleServer from here, so the pages it drives
// are these pages.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

// The file under `dir` that `rel` names, or null when it would leave `dir` or is hidden.
function inside(dir, rel) {
  const parts = rel.split("/").filter(Boolean);
  if (parts.some((p) => p.startsWith(".") || p === "node_modules")) return null;
  const file = path.resolve(dir, ...parts);
  return file.startsWith(path.resolve(dir) + path.sep) ? file : null;
}

function configScript(config) {
  return `// Written by examples/serve.mjs from its environment.\nwindow.LATCH_EXAMPLE = ${JSON.stringify(config, null, 2)};\n`;
}

/**
 * An http.Server (not yet listening) for the example pages.
 * @param {object} opts
 * @param {string} [opts.publicToken]  the SDK public token put into /config.js
 * @param {string} [opts.baseUrl]      customBaseUrl for the SDK
 * @param {string} [opts.orgSlug]      the B2B page's default organization slug
 * @param {string} [opts.iifeDir]      directory holding the @stytch/vanilla-js dist/iife files
 * @param {string} [opts.root]         directory of the pages (default: this file's directory)
 * @param {(req: http.IncomingMessage, status: number) => void} [opts.onRequest]  a log hook
 */
export function createExampleServer(opts = {}) {
  const root = opts.root || HERE;
  const iifeDir = opts.iifeDir || path.join(HERE, "node_modules", "@stytch", "vanilla-js", "dist", "iife");
  const config = {
    publicToken: opts.publicToken || "",
    baseUrl: opts.baseUrl || "https://localhost",
    orgSlug: opts.orgSlug || "demo",
  };
  return http.createServer((req, res) => {
    const send = (status, type, body) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff" });
      res.end(body);
      opts.onRequest?.(req, status);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "method not allowed\n");
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
    } catch {
      return send(400, "text/plain", "bad request\n");
    }
    if (pathname === "/config.js") return send(200, TYPES[".js"], configScript(config));
    if (pathname === "/favicon.ico") return send(204, "text/plain", "");
    let file;
    if (pathname.startsWith("/vendor/stytch/")) {
      file = inside(iifeDir, pathname.slice("/vendor/stytch/".length));
      if (file && !/\.js(\.map)?$/.test(file)) file = null;
    } else {
      file = inside(root, pathname === "/" ? "index.html" : pathname);
      if (file && !TYPES[path.extname(file)]) file = null;
      if (file && path.basename(file) === "serve.mjs") file = null;
    }
    if (!file) return send(404, "text/plain", "not found\n");
    fs.readFile(file, (err, body) => {
      if (err) return send(404, "text/plain", "not found\n");
      send(200, TYPES[path.extname(file)] || "application/octet-stream", body);
    });
  });
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const host = process.env.EXAMPLES_HOST || "127.0.0.1";
  const port = Number(process.env.EXAMPLES_PORT || 8080);
  const server = createExampleServer({
    publicToken: process.env.LATCH_PUBLIC_TOKEN,
    baseUrl: process.env.LATCH_SDK_BASE_URL,
    orgSlug: process.env.LATCH_DEMO_ORG_SLUG,
    iifeDir: process.env.STYTCH_IIFE_DIR,
  });
  if (!process.env.LATCH_PUBLIC_TOKEN) {
    console.error("warning: LATCH_PUBLIC_TOKEN is not set; open the pages with ?public_token=… (latch serve prints it)");
  }
  server.listen(port, host, () => {
    console.log(`example pages on http://localhost:${port}/ (listening on ${host}:${port})`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
