// The guarded deploy: the check's verdict, a short simulation of the edited
// file, the semantic diff (when the server has it) and the line diff against
// the live version, a note, and a confirmation; refused while the file has
// errors.
import { unifiedMergeView } from "@codemirror/merge";
import { yaml } from "@codemirror/lang-yaml";
import { EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type Deployment, type Detail, call, enc, serverInfo } from "../api";
import { Busy, Confirm, ErrorLine } from "../ui";
import { type Analysis, asEdited, campaignIdOf } from "./analysis";
import { Changes, type SemanticDiff } from "./changes";
import type { Report } from "./simulate";

/** How long the file must rest before the review asks the server about it. */
const PAUSE_MS = 500;

/** The review's simulation: small enough to answer in a moment. */
const REVIEW = { users: 200, days: 7, seed: "1" };

export function Deploy(props: {
  campaign: string | null;
  source: string;
  live: Detail | null;
  analysis: Analysis | null;
  readOnly: boolean;
  onDeployed: (campaign: string, detail: Detail) => void;
}) {
  const [note, setNote] = useState("");
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Deployment | null>(null);
  const [semantic, setSemantic] = useState<SemanticDiff | undefined>(undefined);
  const [summary, setSummary] = useState<Report | null>(null);
  const [summaryError, setSummaryError] = useState<unknown>(null);
  const fileId = campaignIdOf(props.source);
  const errors = props.analysis?.errors ?? 0;
  const mismatch = props.live && fileId !== props.live.id;
  const unchanged = props.live !== null && asEdited(props.live.source) === props.source;

  // The semantic diff, from a server that offers it (the `versions` API).
  useEffect(() => {
    const id = props.live?.id;
    if (!id) return;
    let current = true;
    // A moment after the last key, as the check: each call compiles the file.
    const timer = setTimeout(() => {
      serverInfo().then((server) => server.versions && call<SemanticDiff>("POST", `/v1/campaigns/${enc(id)}/diff`, { json: { source: props.source } }).then(
        (diff) => current && setSemantic(diff),
        () => current && setSemantic(undefined),
      ));
    }, PAUSE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [props.source, props.live]);

  // What the edited file would give, once it checks clean.
  const valid = props.analysis?.valid ?? false;
  useEffect(() => {
    setSummary(null);
    setSummaryError(null);
    if (!valid) return;
    let current = true;
    // The server runs one simulation at a time: only the file as it settles.
    const timer = setTimeout(() => {
      serverInfo().then((server) => server.authoring && call<Report>("POST", "/v1/authoring/simulate", { json: { source: props.source, ...REVIEW } }, { deadline: 60_000 }).then(
        (report) => current && setSummary(report),
        (failure) => current && setSummaryError(failure),
      ));
    }, PAUSE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [props.source, valid]);

  const deploy = async (yes: boolean) => {
    setAsking(false);
    if (!yes || !fileId) return;
    setBusy(true);
    setError(null);
    try {
      // A new file's PUT would deploy over a campaign of that id as its next version.
      if (!props.live) {
        const { campaigns } = await call<{ campaigns: { id: string }[] }>("GET", "/v1/campaigns");
        if (campaigns.some((c) => c.id === fileId)) {
          setError(new Error(`A campaign ${fileId} already exists: open it from the list to change it, or give this file another campaign id.`));
          return;
        }
      }
      const query = note.trim() ? `?note=${enc(note.trim())}` : "";
      const answer = await call<Deployment>("PUT", `/v1/campaigns/${enc(fileId)}${query}`, { yaml: props.source });
      setDone(answer);
      setNote("");
      const detail = await call<Detail>("GET", `/v1/campaigns/${enc(fileId)}`);
      props.onDeployed(fileId, detail);
    } catch (failure) {
      setError(failure instanceof ApiError && failure.slug === "invalid-campaign" ? new Error("The server refused the file: it has errors (see Problems).") : failure);
    } finally {
      setBusy(false);
    }
  };

  if (props.readOnly) return <p>This campaign is deployed from its file; it cannot be deployed from here.</p>;
  const blocked = !props.analysis
    ? "The file is still being checked."
    : errors > 0
      ? `The file has ${errors} error${errors === 1 ? "" : "s"}: fix ${errors === 1 ? "it" : "them"} before deploying.`
      : !fileId
        ? "The file needs a `campaign:` id."
        : mismatch
          ? `The file's campaign id (${fileId}) is not this campaign's (${props.live!.id}).`
          : unchanged
            ? "Nothing to deploy: the file is the live version."
            : null;
  return (
    <div class="deploy">
      <h3>Check</h3>
      <p class={errors ? "error" : "ok"} data-testid="deploy-check">
        {props.analysis
          ? `${props.analysis.valid ? "Valid" : "Not valid"}: ${props.analysis.errors} errors, ${props.analysis.warnings} warnings.`
          : "Checking…"}
      </p>
      {valid && (
        <>
          <h3>
            Simulated: {REVIEW.users} users, {REVIEW.days} days
          </h3>
          {summary ? <Summary report={summary} /> : summaryError ? <ErrorLine error={summaryError} /> : <Busy what="Simulating" />}
        </>
      )}
      {props.live ? (
        <>
          <h3>Changes against the live version {props.live.version}</h3>
          {semantic !== undefined && <Changes diff={semantic} />}
          <LineDiff live={asEdited(props.live.source)} edited={props.source} />
        </>
      ) : (
        <p>This is a new campaign: deploying creates its first version.</p>
      )}
      <label>
        Note (optional, kept with the version)
        <input value={note} maxLength={500} onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      {blocked && <p class="help">{blocked}</p>}
      <div class="actions">
        <button type="button" class="primary" disabled={!!blocked || busy} onClick={() => setAsking(true)}>
          Deploy…
        </button>
      </div>
      {busy && <Busy what="Deploying" />}
      <ErrorLine error={error} />
      {done && (
        <p class="notice" role="status" data-testid="deployed">
          Deployed {done.campaign} as version {done.version}
          {done.warnings.map((w) => ` · ${w.message}`).join("")}.
        </p>
      )}
      {asking && (
        <Confirm title={`Deploy ${fileId}?`} confirm="Deploy" onAnswer={deploy}>
          <p>
            {props.live
              ? `Version ${props.live.version + 1} replaces version ${props.live.version} for every draw from now on.`
              : "The campaign is created with this file."}
          </p>
        </Confirm>
      )}
    </div>
  );
}

/** The edited file with the live version's lines shown where they changed (a CodeMirror unified merge view). */
function LineDiff({ live, edited }: { live: string; edited: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!host.current) return;
    const root = host.current.shadowRoot ?? host.current.attachShadow({ mode: "open" });
    const parent = document.createElement("div");
    root.replaceChildren(parent);
    const view = new EditorView({
      parent,
      root,
      doc: edited,
      extensions: [
        EditorState.readOnly.of(true),
        EditorView.editable.of(false),
        yaml(),
        unifiedMergeView({ original: live, mergeControls: false, collapseUnchanged: { margin: 2, minSize: 4 } }),
      ],
    });
    return () => view.destroy();
  }, [live, edited]);
  return (
    <div
      class="line-diff"
      ref={host}
      role="region"
      aria-label="Line changes against the live version: removed lines struck through, added lines marked"
    />
  );
}

/** The review's simulation in a few lines: draws, fallback rate, cost, what runs out, warnings. */
function Summary({ report }: { report: Report }) {
  const soldOut = report.awards.filter((a) => a.sold_out_on_day !== null);
  return (
    <ul class="summary" data-testid="deploy-simulation">
      <li>
        {report.draws} draws, {(report.fallback_rate * 100).toFixed(1)} % fell back
      </li>
      <li>
        Cost per draw {report.cost_per_draw} (expected {report.expected_cost_per_draw})
      </li>
      {soldOut.map((a) => (
        <li key={a.award}>
          {a.award} runs out on day {a.sold_out_on_day}
        </li>
      ))}
      {(report.warnings ?? []).map((w, index) => (
        <li key={`w${index}`} class="warning">
          {w.award}: {w.reason}
        </li>
      ))}
    </ul>
  );
}
