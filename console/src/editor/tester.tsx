// The draw tester: a dry-run draw for a user, with the inputs the file
// declares, an optional seed and `lands_on`; it shows the award, each step
// and what is left. Saved cases run again on every edit and export as a
// scenario file (`tombola test`).
import { useEffect, useState } from "preact/hooks";
import { type DrawResponse, type DryRun, type Step, call, enc, requestId } from "../api";
import { Busy, ErrorLine, Form, Table } from "../ui";
import { type Analysis, type Input, declaredAwards, hasAuthoring } from "./analysis";
import { type TestCase, loadCases, saveCases } from "./drafts";

interface Form {
  user: string;
  attributes: Record<string, string>;
  seed: string;
  lands_on: string;
  today: string;
  total: string;
  credits: string;
}

const EMPTY: Form = { user: "tester", attributes: {}, seed: "1", lands_on: "", today: "", total: "", credits: "" };

/** A form value as the JSON the draw expects for an input of `type`. */
export function typed(type: string, text: string): unknown {
  const t = type.replace(/[{}\s]/g, "");
  if (t === "bool") return text === "true";
  if (t === "int" || t === "integer") return Number.parseInt(text, 10);
  if (t === "decimal" || t === "number") return text;
  if (t.startsWith("list<")) return text.split(",").map((s) => s.trim()).filter(Boolean);
  return text;
}

function caseOf(form: Form, inputs: Input[]): TestCase {
  const attributes: Record<string, unknown> = {};
  for (const input of inputs) attributes[input.name] = typed(input.type, form.attributes[input.name] ?? "");
  const counts: TestCase["counts"] = {};
  if (form.today) counts.today = Number(form.today);
  if (form.total) counts.total = Number(form.total);
  return {
    name: "",
    user: form.user,
    attributes,
    seed: form.seed,
    lands_on: form.lands_on,
    counts: Object.keys(counts).length ? counts : undefined,
    credits: form.credits || undefined,
    expect: null,
  };
}

export async function dryRun(campaign: string, source: string, test: TestCase): Promise<DryRun> {
  const body: Record<string, unknown> = {
    user: test.user,
    request_id: requestId(),
    dry_run: true,
    attributes: test.attributes,
  };
  if (test.seed) body.seed = test.seed;
  if (test.lands_on) body.lands_on = test.lands_on;
  // The edited file and starting state need the server's authoring support.
  if (hasAuthoring()) {
    body.source = source;
    if (test.counts) body.counts = test.counts;
    if (test.credits) body.credits = test.credits;
  }
  return call<DryRun>("POST", `/v1/campaigns/${enc(campaign)}/draws`, { json: body });
}

export function Tester(props: {
  campaign: string;
  source: string;
  analysis: Analysis | null;
  deployed: boolean;
  onResult: (result: DryRun | null) => void;
}) {
  const inputs = props.analysis?.inputs ?? [];
  const awards = declaredAwards(props.source);
  const [form, setForm] = useState<Form>(EMPTY);
  const [result, setResult] = useState<DryRun | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [cases, setCases] = useState<TestCase[]>(() => loadCases(props.campaign));
  const [outcomes, setOutcomes] = useState<Record<number, string>>({});
  const editedRuns = hasAuthoring();
  const set = (patch: Partial<Form>) => setForm({ ...form, ...patch });

  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const answer = await dryRun(props.campaign, props.source, caseOf(form, inputs));
      setResult(answer);
      props.onResult(answer);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  // Every saved case runs again when the file changes.
  useEffect(() => {
    if (cases.length === 0 || (!editedRuns && !props.deployed)) return;
    let current = true;
    const timer = setTimeout(async () => {
      const next: Record<number, string> = {};
      for (const [index, test] of cases.entries()) {
        try {
          const answer = await dryRun(props.campaign, props.source, test);
          const got = answer.draw?.award.id ?? `refused: ${answer.refused?.type.split("/").pop()}`;
          next[index] = got === test.expect ? "pass" : `fail: gave ${got}`;
        } catch (failure) {
          next[index] = `error: ${failure instanceof Error ? failure.message : failure}`;
        }
      }
      if (current) setOutcomes(next);
    }, 500);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [props.source, cases]);

  const save = () => {
    const name = prompt("Name this test case", `${form.user} draws`);
    if (!name) return;
    const test = { ...caseOf(form, inputs), name, expect: result?.draw?.award.id ?? null };
    const next = [...cases, test];
    setCases(next);
    saveCases(props.campaign, next);
  };

  const remove = (index: number) => {
    const next = cases.filter((_, i) => i !== index);
    setCases(next);
    saveCases(props.campaign, next);
  };

  return (
    <div class="tester">
      {!props.deployed && !editedRuns && (
        <p class="notice">This server dry-runs only deployed campaigns: deploy the file first.</p>
      )}
      <p class="help">
        {editedRuns
          ? "A dry run evaluates the file as edited here, against what the store holds now; it writes nothing and takes no stock."
          : "A dry run evaluates the live version against what the store holds now; it writes nothing and takes no stock."}
      </p>
      <Form onSubmit={run}>
        <label>
          User
          <input value={form.user} required onInput={(e) => set({ user: e.currentTarget.value })} />
        </label>
        {inputs.map((input) => (
          <InputField
            key={input.name}
            input={input}
            value={form.attributes[input.name] ?? ""}
            onChange={(value) => set({ attributes: { ...form.attributes, [input.name]: value } })}
          />
        ))}
        <label>
          Seed
          <input inputMode="numeric" pattern="[0-9]*" value={form.seed} onInput={(e) => set({ seed: e.currentTarget.value })} />
        </label>
        <label>
          Lands on
          <select value={form.lands_on} onChange={(e) => set({ lands_on: e.currentTarget.value })}>
            <option value="">(the weighted pick)</option>
            {awards.map((award) => (
              <option key={award} value={award}>
                {award}
              </option>
            ))}
          </select>
        </label>
        {editedRuns && (
          <>
            <label>
              Draws made today
              <input type="number" min={0} value={form.today} onInput={(e) => set({ today: e.currentTarget.value })} />
            </label>
            <label>
              Draws made in total
              <input type="number" min={0} value={form.total} onInput={(e) => set({ total: e.currentTarget.value })} />
            </label>
            <label>
              Credits
              <input inputMode="decimal" value={form.credits} onInput={(e) => set({ credits: e.currentTarget.value })} />
            </label>
          </>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Run a dry-run draw
          </button>
          <button type="button" disabled={!result} onClick={save}>
            Save as a test case
          </button>
        </div>
      </Form>
      {busy && <Busy what="Drawing" />}
      <ErrorLine error={error} />
      {result && <DryRunResult result={result} />}
      {cases.length > 0 && (
        <section aria-labelledby="cases-title">
          <h3 id="cases-title">Saved test cases</h3>
          <ul class="cases">
            {cases.map((test, index) => (
              <li key={index} data-outcome={outcomes[index] ?? "pending"}>
                <strong>{test.name}</strong> expects <code>{test.expect ?? "a refusal"}</code>:{" "}
                <span class={outcomes[index] === "pass" ? "ok" : "error"}>{outcomes[index] ?? "not run yet"}</span>{" "}
                <button type="button" onClick={() => remove(index)} aria-label={`Remove ${test.name}`}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => download(`${props.campaign}.test.yaml`, scenarioFile(props.campaign, cases))}>
            Export as a scenario file
          </button>
        </section>
      )}
    </div>
  );
}

function InputField({ input, value, onChange }: { input: Input; value: string; onChange: (v: string) => void }) {
  const type = input.type.replace(/\s/g, "");
  const label = `${input.name} (${input.type})`;
  if (type === "bool")
    return (
      <label>
        {label}
        <select value={value || "false"} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="false">false</option>
          <option value="true">true</option>
        </select>
      </label>
    );
  if (input.values?.length)
    return (
      <label>
        {label}
        <select value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          {input.values.map((v) => (
            <option key={String(v)} value={String(v)}>
              {String(v)}
            </option>
          ))}
        </select>
      </label>
    );
  const numeric = type === "int" || type === "decimal";
  return (
    <label>
      {label}
      <input
        value={value}
        inputMode={numeric ? "decimal" : undefined}
        placeholder={type.startsWith("list<") ? "comma-separated" : undefined}
        title={input.doc}
        onInput={(e) => onChange(e.currentTarget.value)}
      />
    </label>
  );
}

export function DryRunResult({ result }: { result: DryRun }) {
  if (!result.draw)
    return (
      <div class="result" data-testid="dry-run-result">
        <p>
          <strong>Refused:</strong> {result.refused?.title} — {result.refused?.detail}
        </p>
      </div>
    );
  const draw: DrawResponse = result.draw;
  return (
    <div class="result" data-testid="dry-run-result">
      <p>
        Version {result.version} would give <strong data-testid="award">{draw.award.id}</strong>
        {draw.award.title ? ` (${draw.award.title})` : ""}. Seed {draw.seed}.
      </p>
      <Table caption="Steps" head={["Step", "Outcome", "Number compared", "Inputs read"]}>
        {draw.steps.map((step: Step, index) => (
          <tr key={index}>
            <td>
              <code>{step.at}</code>
            </td>
            <td>{step.outcome}</td>
            <td>{step.read ?? ""}</td>
            <td>{(step.inputs ?? []).map(([name, value]) => `${name} = ${value}`).join(", ")}</td>
          </tr>
        ))}
      </Table>
      <p>
        Left: {draw.left.draws} draws
        {draw.left.today != null ? `, ${draw.left.today} today` : ""}
        {draw.left.month != null ? `, ${draw.left.month} this month` : ""}
        {draw.left.total != null ? `, ${draw.left.total} in total` : ""}.
      </p>
    </div>
  );
}

/** The saved cases as a `tombola test` scenario file (JSON values are YAML too). */
export function scenarioFile(campaign: string, cases: TestCase[]): string {
  const j = JSON.stringify;
  const lines = [
    "# yaml-language-server: $schema=../schema/scenario.schema.json",
    "#",
    "# Exported from the tombola console's draw tester.",
    `campaign: ${campaign}.yaml`,
    "",
    "scenarios:",
  ];
  for (const test of cases) {
    const user: Record<string, unknown> = { attributes: test.attributes };
    if (test.credits) user.credits = test.credits;
    if (test.counts) user.draws = test.counts;
    const draw: Record<string, unknown> = { user: test.user };
    if (test.lands_on) draw.lands_on = test.lands_on;
    if (test.expect) draw.expect = { award: test.expect };
    lines.push(
      `  - name: ${j(test.name)}`,
      `    at: ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}`,
      ...(test.seed ? [`    seed: ${test.seed}`] : []),
      `    users: { ${j(test.user)}: ${j(user)} }`,
      "    steps:",
      `      - draw: ${j(draw)}`,
    );
  }
  return lines.join("\n") + "\n";
}

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/yaml" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
