// The console in a real browser against the real binary: sign-in, the
// list, editing with diagnostics, completion, deploy, the draw tester's dry
// run (which must change nothing), open and close, operations; no console
// error and no CSP violation anywhere. Screenshots go to docs/console/.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { APP_KEY, api, missing, startBrowser, startServer } from "./harness.mjs";

const skip = missing();
const shots = new URL("../../docs/console/", import.meta.url).pathname;
let server;
let b;

const SPRING = `campaign: spring
name: Spring raffle
state: draft
window: { from: 2026-01-01, zone: UTC }

allowance: 5

inputs:
  user:
    vip: bool

awards:
  points: { kind: credits, amount: 10, title: 10 credits }
  jackpot: { kind: credits, amount: 500, title: 500 credits }
  nothing: { kind: none, title: Better luck next time }

pool:
  - { award: points, rate: 50% }
  - { award: jackpot, rate: 10%, stock: 25, exhausted: points }
  - { award: nothing, rate: 40% }
`;

async function shot(name, page = b.page) {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

/** No CSP violation on the page, and no console error since the last look. */
async function clean(page = b.page) {
  const violations = await page.evaluate(() => window.__violations.splice(0));
  const errors = b.errors.splice(0);
  assert.deepEqual(violations, [], "CSP violations");
  assert.deepEqual(errors, [], "console errors");
}

/**
 * Replaces the editor's whole text as a person pasting a file would: select
 * all, then a paste event (which CodeMirror handles itself).
 */
async function setEditor(text) {
  const content = b.page.locator(".cm-content").first();
  await content.click();
  await b.page.keyboard.press("Control+A");
  await content.evaluate((element, value) => {
    const data = new DataTransfer();
    data.setData("text/plain", value);
    element.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
  await b.page.waitForFunction(
    (first) => document.querySelector(".editor")?.shadowRoot?.querySelector(".cm-content")?.textContent?.startsWith(first),
    text.split("\n")[0],
  );
}

before(async () => {
  if (skip) return;
  server = await startServer();
  b = await startBrowser();
});

after(async () => {
  await b?.browser.close();
  await server?.stop();
});

test("a wrong token is refused in words, the dev token signs in", { skip: skip ?? false }, async () => {
  const { page } = b;
  await page.goto(`${server.url}/console`);
  await page.getByLabel("Admin token").fill("not-the-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "That admin token is wrong" }).waitFor();
  await shot("sign-in-wrong-token");
  // The refused call is the one error the browser logs, for the 403 itself.
  assert.equal(b.errors.length, 1, b.errors.join("\n"));
  assert.match(b.errors[0], /status of 403/);
  b.errors.length = 0;
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, "a wrong token is not kept");
  await page.getByRole("button", { name: "Use the development token" }).click();
  await page.getByRole("heading", { name: "Campaigns" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("tombola.console.token")), "dev-admin");
  await clean();
});

test("the list shows state, window, version, stock against declared stock", { skip: skip ?? false }, async () => {
  const { page } = b;
  const card = page.locator('li[data-campaign="folder-raffle"]');
  await card.waitFor();
  await card.getByText("open", { exact: true }).waitFor();
  assert.match(await card.textContent(), /2026-01-01 → no end \(Europe\/Paris\)/);
  assert.equal(await card.locator('[data-fact="draws-today"]').textContent(), "0");
  assert.equal(await card.locator('[data-fact="dead"]').textContent(), "0");
  const meter = card.locator("meter");
  assert.equal(await meter.getAttribute("max"), "40");
  assert.equal(await meter.getAttribute("value"), "40");
  await clean();
});

test("a new campaign shows a diagnostic at its line, then is fixed and deployed", { skip: skip ?? false }, async () => {
  const { page } = b;
  await page.getByRole("link", { name: "New campaign" }).click();
  await page.locator(".cm-content").first().waitFor();
  const broken = SPRING.replace("{ award: jackpot, rate: 10%", "{ award: jackpt, rate: 10%");
  await setEditor(broken);
  const line = broken.split("\n").findIndex((l) => l.includes("jackpt")) + 1;
  const problem = page.locator("li.problem-error").first();
  await problem.waitFor();
  assert.match(await problem.textContent(), new RegExp(`line ${line}, column \\d+`));
  // The squiggle is on that line of the editor.
  const marked = page.locator(".cm-line", { has: page.locator(".cm-lintRange-error") });
  await marked.first().waitFor();
  assert.match(await marked.first().textContent(), /jackpt/);
  await shot("editor-diagnostic");
  // A click on the problem puts the cursor there.
  await problem.locator("button").click();
  const selected = await page.evaluate(() => getSelection()?.toString() ?? "");
  assert.ok(selected === "" || /jackpt/.test(selected), selected);

  // Completion offers the file's award ids.
  await setEditor(SPRING.replace("{ award: jackpot, rate: 10%", "{ award: ja"));
  const target = page.locator(".cm-line", { hasText: "award: ja" });
  await target.click();
  await page.keyboard.press("End");
  // Back to just after "ja".
  for (let i = 0; i < ", stock: 25, exhausted: points }".length; i++) await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("Control+Space");
  const options = page.locator(".cm-tooltip-autocomplete li");
  await options.first().waitFor();
  assert.ok((await options.allTextContents()).some((t) => t.includes("jackpot")), "jackpot is offered");
  await shot("editor-completion");
  await page.keyboard.press("Escape");

  await setEditor(SPRING);
  await page.getByText("No problems: the file is valid.").waitFor();
  await page.getByRole("tab", { name: "Deploy" }).click();
  await page.getByText("This is a new campaign").waitFor();
  b.dialogs.length = 0;
  await page.getByRole("button", { name: "Deploy…" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Deploy" }).click();
  await page.waitForURL(/\/console\/campaigns\/spring$/);
  assert.deepEqual(b.dialogs, [], "a deployed file leaves nothing unsaved to ask about");
  const live = await api(server, "GET", "/v1/campaigns/spring");
  assert.equal(live.status, 200);
  assert.equal(live.body.version, 1);
  assert.equal(live.body.source, SPRING);

  // A new file naming a campaign that exists is not deployed over it.
  await page.getByRole("link", { name: "New campaign" }).click();
  await page.locator(".cm-content").first().waitFor();
  await setEditor(SPRING.replace("allowance: 5", "allowance: 4"));
  await page.getByText("No problems: the file is valid.").waitFor();
  await page.getByRole("tab", { name: "Deploy" }).click();
  await page.getByRole("button", { name: "Deploy…" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Deploy" }).click();
  await page.getByText("A campaign spring already exists").waitFor();
  assert.equal((await api(server, "GET", "/v1/campaigns/spring")).body.version, 1, "nothing deployed over it");
  // Back to the campaign's own editor, where the next test goes on.
  await page.getByRole("link", { name: "Campaigns" }).first().click();
  await page.locator('li[data-campaign="spring"]').getByRole("link", { name: "Edit" }).click();
  await page.waitForURL(/\/console\/campaigns\/spring$/);
  await clean();
});

test("an edit shows its diff against the live version and deploys version 2", { skip: skip ?? false }, async () => {
  const { page } = b;
  await page.locator(".cm-content").first().waitFor();
  const edited = SPRING.replace("amount: 10, title: 10 credits", "amount: 20, title: 20 credits");
  await setEditor(edited);
  await page.getByText("Edited, not deployed").waitFor();
  await page.getByRole("tab", { name: "Deploy" }).click();
  await page.locator(".line-diff .cm-deletedChunk").first().waitFor();
  await page.locator(".line-diff .cm-changedLine").first().waitFor();
  await page.getByLabel("Note (optional, kept with the version)").fill("double points");
  // The review shows what the edit changes and what a short simulation of it gives.
  await page.getByTestId("semantic-diff").filter({ hasText: "points" }).waitFor();
  const simulated = page.getByTestId("deploy-simulation");
  await simulated.waitFor({ timeout: 60_000 });
  assert.match(await simulated.textContent(), /\d+ draws, \d+\.\d % fell back/);
  await shot("deploy-review");
  await page.getByRole("button", { name: "Deploy…" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Deploy" }).click();
  await page.getByTestId("deployed").waitFor();
  assert.match(await page.getByTestId("deployed").textContent(), /version 2/);
  const live = await api(server, "GET", "/v1/campaigns/spring");
  assert.equal(live.body.version, 2);
  assert.equal(live.body.source, edited);
  await page.getByText("Same as the live version").waitFor();
  await clean();
});

test("hover explains what is under the pointer; an edit not deployed survives a reload as a draft", { skip: skip ?? false }, async () => {
  const { page } = b;
  // The pointer over "jackpot" in the pool: where a Range over that text is drawn.
  const at = await page.evaluate(() => {
    const root = document.querySelector(".editor").shadowRoot;
    const walker = document.createTreeWalker(root.querySelector(".cm-content"), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const line = node.parentElement.closest(".cm-line");
      const index = node.textContent.indexOf("jackpot");
      if (index >= 0 && line?.textContent.includes("award: jackpot")) {
        const range = document.createRange();
        range.setStart(node, index + 2);
        range.setEnd(node, index + 3);
        const box = range.getBoundingClientRect();
        return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
      }
    }
    return null;
  });
  assert.ok(at, "the pool's jackpot is on screen");
  await page.mouse.move(at.x, at.y);
  const tooltip = page.locator(".cm-tooltip-hover");
  await tooltip.waitFor();
  assert.match(await tooltip.textContent(), /credits/);
  await page.mouse.move(0, 0);

  const draft = SPRING.replace("amount: 10, title: 10 credits", "amount: 30, title: 30 credits");
  await setEditor(draft);
  await page.getByText("Edited, not deployed").waitFor();
  await page.reload();
  await page.getByText("unsaved draft").waitFor();
  assert.match(await page.locator(".cm-content").first().textContent(), /amount: 30/);
  await page.getByRole("button", { name: "Discard the draft" }).click();
  await page.waitForFunction(
    () => /amount: 20/.test(document.querySelector(".editor")?.shadowRoot?.querySelector(".cm-content")?.textContent ?? ""),
  );
  await clean();
});

test("open and close ask first", { skip: skip ?? false }, async () => {
  const { page } = b;
  await page.getByRole("link", { name: "Campaigns", exact: true }).click();
  const card = page.locator('li[data-campaign="spring"]');
  await card.getByText("draft", { exact: true }).waitFor();
  await card.getByRole("button", { name: "Open…" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  assert.equal((await api(server, "GET", "/v1/campaigns/spring")).body.state, "draft");
  await card.getByRole("button", { name: "Open…" }).click();
  await shot("open-confirm");
  await page.getByRole("dialog").getByRole("button", { name: "Open it" }).click();
  await card.getByText("open", { exact: true }).waitFor();
  assert.equal((await api(server, "GET", "/v1/campaigns/spring")).body.state, "open");
  await page.getByRole("status").filter({ hasText: "spring is open." }).waitFor();
  await shot("campaigns");
  await clean();
});

test("a dry-run draw shows its award and steps and changes nothing", { skip: skip ?? false }, async () => {
  const { page } = b;
  const look = async () => ({
    stats: await api(server, "GET", "/v1/campaigns/spring/stats"),
    audit: await api(server, "GET", "/v1/audit?limit=500"),
    user: await api(server, "GET", "/v1/campaigns/spring/users/ann", undefined, APP_KEY),
  });
  const before = await look();
  assert.equal(before.user.status, 200, JSON.stringify(before.user.body));
  await page.locator('li[data-campaign="spring"]').getByRole("link", { name: "Edit" }).click();
  await page.getByRole("tab", { name: "Draw tester" }).click();
  await page.getByLabel("User").fill("ann");
  await page.getByLabel("vip (bool)").selectOption("true");
  await page.getByLabel("Lands on").selectOption("jackpot");
  await page.getByRole("button", { name: "Run a dry-run draw" }).click();
  const result = page.getByTestId("dry-run-result");
  await result.waitFor();
  assert.equal(await page.getByTestId("award").textContent(), "jackpot");
  const steps = result.locator("tbody tr");
  assert.ok((await steps.count()) >= 1, "the steps are listed");
  assert.match(await steps.allTextContents().then((t) => t.join("\n")), /draw:jackpot|issue:jackpot/);
  await shot("draw-tester");
  const after = await look();
  assert.deepEqual(after.stats.body, before.stats.body, "stats unchanged");
  assert.equal(after.stats.body.draws, 0);
  const jackpot = after.stats.body.awards.find((a) => a.award === "jackpot");
  assert.deepEqual(jackpot.stock, { declared: 25, remaining: 25, issued: 0 });
  assert.deepEqual(after.audit.body, before.audit.body, "nothing logged");
  assert.deepEqual(after.user.body, before.user.body, "the user's status unchanged");

  // Saved as a test case, it runs again and passes; it exports as a scenario file.
  await page.getByRole("button", { name: "Save as a test case" }).click();
  await page.locator('ul.cases li[data-outcome="pass"]').waitFor();
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export as a scenario file" }).click();
  const file = await download;
  assert.equal(file.suggestedFilename(), "spring.test.yaml");
  const { readFile } = await import("node:fs/promises");
  const scenario = await readFile(await file.path(), "utf8");
  assert.match(scenario, /^campaign: spring\.yaml$/m);
  assert.match(scenario, /"lands_on":"jackpot","expect":\{"award":"jackpot"\}/);
  assert.match(scenario, /"ann": \{"attributes":\{"vip":true\}\}/);
  await clean();
});

test("the rule graph jumps to a node's YAML and shows the tested draw's path", { skip: skip ?? false }, async () => {
  const { page } = b;
  await page.getByRole("tab", { name: "Graph" }).click();
  // The dry run above landed on the jackpot: its nodes are on the path, the others not.
  const taken = page.locator('svg g.node.taken[data-node$="jackpot"]');
  await taken.first().waitFor();
  assert.equal(await page.locator('svg g.node.taken[data-node$="nothing"]').count(), 0, "an award not drawn is off the path");
  await page.getByText("Highlighted: the path of the last tested draw.").waitFor();
  await shot("rule-graph");
  await taken.first().click();
  await page.locator(".cm-activeLine", { hasText: "award: jackpot" }).waitFor();
  await clean();
});

test("a simulation reports its figures and draws charts with axes; the server bounds it", { skip: skip ?? false }, async () => {
  const { page } = b;
  await page.getByRole("tab", { name: "Simulation" }).click();
  await page.getByLabel("Users").fill("40");
  await page.getByLabel("Days").fill("5");
  await page.getByLabel("Seed").fill("7");
  await page.getByRole("button", { name: "Simulate" }).click();
  const report = page.getByTestId("simulation-report");
  await report.waitFor({ timeout: 60_000 });
  const jackpot = report.locator("tbody tr", { hasText: "jackpot" });
  const issued = Number((await jackpot.locator("td").nth(1).textContent()).trim());
  assert.ok(issued > 0 && issued <= 25, `the jackpot is issued within its stock (${issued})`);
  assert.match(await page.locator('[data-fact="fallback-rate"]').textContent(), /^\d+\.\d %$/);
  const charts = page.locator("figure.chart");
  assert.ok((await charts.count()) >= 1, "charts are drawn");
  // uPlot draws an axis label for the days and one for the unit.
  assert.ok((await charts.first().locator(".u-label").count()) >= 2, "the axes are labelled");
  assert.ok((await charts.first().locator(".u-legend").count()) === 1, "the chart has its legend");
  await shot("simulation");
  // The same seed gives the same report; a simulation past the bound is refused.
  const source = await api(server, "GET", "/v1/campaigns/spring").then((r) => r.body.source);
  const ask = { source, users: 40, days: 5, seed: "7" };
  const [one, two] = [await api(server, "POST", "/v1/authoring/simulate", ask), await api(server, "POST", "/v1/authoring/simulate", ask)];
  assert.equal(one.status, 200, JSON.stringify(one.body));
  assert.equal(one.body.digest, two.body.digest);
  const huge = await api(server, "POST", "/v1/authoring/simulate", { source, users: 10_000, days: 366 });
  assert.equal(huge.status, 422);
  assert.equal(huge.body.type, "https://tombola.dev/problems/simulation-too-large");
  await clean();
});

test("history lists the versions with their notes, diffs two and rolls back", { skip: skip ?? false }, async () => {
  const { page } = b;
  await page.getByRole("tab", { name: "History" }).click();
  const second = page.locator('tr[data-version="2"]');
  await second.waitFor();
  assert.match(await second.textContent(), /double points/);
  assert.match(await second.textContent(), /console/);
  await second.getByRole("button", { name: "Diff with 1" }).click();
  const diff = page.locator(".semantic-diff");
  await diff.waitFor();
  assert.match(await diff.textContent(), /points/);
  await page.locator('tr[data-version="1"]').getByRole("button", { name: "Roll back to 1…" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Roll back" }).click();
  await page.getByTestId("reloaded").filter({ hasText: "live again, as version 3" }).waitFor();
  await page.locator('tr[data-version="3"]', { hasText: "(live)" }).waitFor();
  await shot("history");
  const live = await api(server, "GET", "/v1/campaigns/spring");
  assert.equal(live.body.version, 3);
  assert.equal(live.body.source, SPRING);
  await clean();
});

test("after a restart the console's deploy is still live, and still the console's", { skip: skip ?? false }, async () => {
  const { page } = b;
  await server.restart();
  const live = await api(server, "GET", "/v1/campaigns/spring");
  assert.equal(live.status, 200);
  assert.equal(live.body.version, 3);
  assert.equal(live.body.source, SPRING);
  // A new port is a new origin: sign in there again.
  await page.goto(`${server.url}/console/campaigns/spring`);
  await page.getByRole("button", { name: "Use the development token" }).click();
  await page.locator(".cm-content").first().waitFor();
  assert.equal(await page.locator(".cm-content").first().getAttribute("contenteditable"), "true");
  const versions = await api(server, "GET", "/v1/campaigns/spring/versions");
  assert.deepEqual(
    versions.body.versions.map((v) => [v.version, v.origin]),
    [
      [3, "console"],
      [2, "console"],
      [1, "console"],
    ],
  );
  await clean();
});

test("a folder campaign is read-only with its source shown", { skip: skip ?? false }, async (t) => {
  const { page } = b;
  const info = await fetch(`${server.url}/console/server.json`).then((r) => r.json());
  if (!info.versions) return t.skip("this server does not say which campaigns come from its folder (no versions API)");
  await page.goto(`${server.url}/console/campaigns/folder-raffle`);
  await page.locator(".cm-content").first().waitFor();
  assert.equal(await page.locator(".cm-content").first().getAttribute("contenteditable"), "false");
  await page.getByText("it is read-only here").waitFor();
  await clean();
});

test("operations list the audit log", { skip: skip ?? false }, async () => {
  const { page } = b;
  await page.getByRole("link", { name: "Operations" }).click();
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  await page.getByText("No delivery is dead-lettered.").waitFor();
  await page.locator("td", { hasText: "spring" }).first().waitFor();
  await shot("operations");
  await clean();
});

test("the list and the editor work on a narrow screen", { skip: skip ?? false }, async () => {
  const { page } = b;
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole("link", { name: "Campaigns", exact: true }).click();
  await page.locator('li[data-campaign="spring"]').waitFor();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll("*")]
      .filter((e) => e.getBoundingClientRect().right > 390 || e.scrollWidth > 390)
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)})`),
  );
  assert.ok(width <= 390, `no sideways scrolling (${width} px wide: ${wide.join(", ")})`);
  await shot("campaigns-narrow");
  await page.setViewportSize({ width: 1280, height: 800 });
  await clean();
});

test("the keyboard alone reaches a campaign's editor from the list", { skip: skip ?? false }, async () => {
  const { page } = b;
  await page.getByRole("link", { name: "Campaigns", exact: true }).click();
  await page.locator('li[data-campaign="spring"]').waitFor();
  await page.locator("body").focus();
  // Tab until the spring campaign's Edit link has the focus, then Enter.
  const focusedOn = () => page.evaluate(() => {
    const e = document.activeElement;
    return `${e?.closest("[data-campaign]")?.getAttribute("data-campaign") ?? ""}/${e?.textContent?.trim() ?? ""}`;
  });
  let presses = 0;
  while ((await focusedOn()) !== "spring/Edit") {
    assert.ok(++presses < 60, `Tab never reached spring's Edit link (at ${await focusedOn()})`);
    await page.keyboard.press("Tab");
  }
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/console\/campaigns\/spring$/);
  await page.locator(".cm-content").first().waitFor();
  await clean();
});

test("signing out forgets the token", { skip: skip ?? false }, async () => {
  const { page } = b;
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Admin token").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("tombola.console.token")), null);
  await page.reload();
  await page.getByLabel("Admin token").waitFor();
  await clean();
});
