// The browser tests' set-up: the real `tombola serve --dev` (the binary
// TOMBOLA names) on a free port with a fresh SQLite store and a campaigns
// folder, and Debian's Chromium (CHROMIUM overrides) through playwright-core.
// Under CI=true a missing binary or browser fails the run; elsewhere the
// tests are skipped with the reason.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const TOKEN = "dev-admin";
const here = new URL(".", import.meta.url).pathname;
const repo = join(here, "..", "..");

export function missing() {
  const binary = process.env.TOMBOLA ?? join(repo, "target", "release", "tombola");
  const browser = process.env.CHROMIUM ?? "/usr/bin/chromium";
  const why = [];
  if (!existsSync(binary)) why.push(`no tombola binary at ${binary} (set TOMBOLA)`);
  if (!existsSync(browser)) why.push(`no Chromium at ${browser} (set CHROMIUM)`);
  if (why.length && process.env.CI === "true") throw new Error(`CI=true: ${why.join("; ")}`);
  return why.length ? why.join("; ") : null;
}

export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), "tombola-console-"));
  const campaigns = join(dir, "campaigns");
  mkdirSync(campaigns);
  copyFileSync(join(here, "fixtures", "folder-raffle.yaml"), join(campaigns, "folder-raffle.yaml"));
  const server = { dir, ...(await serve(dir)) };
  return Object.assign(server, {
    /** Stops the process and starts another on the same store and folder (a new port). */
    async restart() {
      await server.halt();
      Object.assign(server, await serve(dir));
    },
    async stop() {
      await server.halt();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** `tombola serve --dev` on the store and folder of `dir`, once it listens. */
async function serve(dir) {
  const binary = process.env.TOMBOLA ?? join(repo, "target", "release", "tombola");
  const child = spawn(
    binary,
    [
      "serve",
      "--dev",
      "--listen",
      "127.0.0.1:0",
      "--database-url",
      `sqlite://${join(dir, "tombola.db")}`,
      "--campaigns",
      join(dir, "campaigns"),
      // No webhook is ever called from a test.
      "--delivery",
      "false",
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TOMBOLA_LOG: "warn" } },
  );
  let log = "";
  child.stderr.on("data", (chunk) => (log += chunk));
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`tombola serve did not start in 30 s:\n${out}\n${log}`)), 30_000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = out.match(/listening on (http:\/\/[\d.:]+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`tombola serve exited with ${code}:\n${out}\n${log}`)));
  });
  return {
    url,
    log: () => log,
    async halt() {
      child.kill("SIGTERM");
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on("exit", resolve)));
    },
  };
}

/** The API key `serve --dev` accepts, for the app calls (a user's status). */
export const APP_KEY = "tbk_dev";

/** An API call (admin unless another bearer is given), to check what the console did from outside it. */
export async function api(server, method, path, body, bearer = TOKEN) {
  const response = await fetch(server.url + path, {
    method,
    headers: { Authorization: `Bearer ${bearer}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/**
 * Chromium with a page that records every console error, uncaught error
 * and Content-Security-Policy violation, to assert there are none.
 */
export async function startBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
    });
  });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  // A prompt (naming a test case) takes its suggested answer; every dialog is
  // kept, so a test can tell one that should not have been asked.
  const dialogs = [];
  page.on("dialog", (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.accept(dialog.type() === "prompt" ? dialog.defaultValue() : undefined);
  });
  return { browser, context, page, errors, dialogs };
}
