// A campaign's page: the YAML editor with live diagnostics and the problems
// list, beside the tools that work on the edited file (draw tester, graph,
// simulation, deploy, history). A new campaign starts from a template.
import type { EditorView } from "@codemirror/view";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { type Detail, type DryRun, type ServerInfo, call, enc, serverInfo } from "../api";
import { type Route, navigate, setLeaveGuard } from "../router";
import { Busy, ErrorLine } from "../ui";
import { type Analysis, analyze, asEdited, campaignIdOf, complete, hover } from "./analysis";
import { jumpTo, mountEditor, rangeOf, showDiagnostics } from "./codemirror";
import { Deploy } from "./deploy";
import { RuleGraph } from "./graph";
import { History } from "./history";
import { Simulation } from "./simulate";
import { dropDraft, loadDraft, saveDraft } from "./drafts";
import { Problems } from "./problems";
import { Tester } from "./tester";

const TEMPLATE = `campaign: my-campaign
name: My campaign
state: draft
window: { from: 2026-01-01, zone: UTC }

allowance: 3

awards:
  points: { kind: credits, amount: 10, title: 10 credits }
  nothing: { kind: none, title: Better luck next time }

pool:
  - { award: points, rate: 40% }
  - { award: nothing, rate: 60% }
`;

type Tool = "problems" | "test" | "graph" | "simulate" | "deploy" | "history";

export function EditorPage({ route }: { route: Route }) {
  const id = route.page === "editor" ? route.id : null;
  const draftKey = id ?? "+new";
  const [live, setLive] = useState<Detail | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [source, setSource] = useState<string | null>(null);
  const [restored, setRestored] = useState<string | null>(null);
  // Bumped when the live file is replaced from elsewhere (a rollback), to start the editor over on it.
  const [generation, setGeneration] = useState(0);
  // What the started-over editor says first, and the tool it opens on.
  const [reloaded, setReloaded] = useState<{ notice: string; tool: Tool } | null>(null);

  useEffect(() => {
    const draft = loadDraft(draftKey);
    if (!id) {
      setSource(draft?.source ?? TEMPLATE);
      if (draft) setRestored(draft.saved_at);
      return;
    }
    call<Detail>("GET", `/v1/campaigns/${enc(id)}`).then(
      (detail) => {
        setLive(detail);
        const useDraft = draft && draft.source !== detail.source && detail.origin !== "folder";
        setSource(useDraft ? draft.source : detail.source);
        if (useDraft) setRestored(draft.saved_at);
      },
      setLoadError,
    );
  }, [id]);

  if (loadError) return <ErrorLine error={loadError} />;
  if (source === null) return <Busy what="Loading the campaign" />;
  return (
    <Workbench
      key={generation}
      id={id}
      draftKey={draftKey}
      live={live}
      initial={source}
      restored={restored}
      reloaded={reloaded}
      onDeployed={(campaign, detail) => {
        dropDraft(draftKey);
        if (id) setLive(detail);
        else {
          // Deployed: nothing is left unsaved to ask about on the way to its page.
          setLeaveGuard(null);
          navigate({ page: "editor", id: campaign });
        }
      }}
      onReload={(notice, tool) =>
        id &&
        call<Detail>("GET", `/v1/campaigns/${enc(id)}`).then((detail) => {
          dropDraft(draftKey);
          setLive(detail);
          setSource(detail.source);
          setRestored(null);
          setReloaded({ notice, tool });
          setGeneration((g) => g + 1);
        }, setLoadError)
      }
    />
  );
}

function Workbench(props: {
  id: string | null;
  draftKey: string;
  live: Detail | null;
  initial: string;
  restored: string | null;
  reloaded: { notice: string; tool: Tool } | null;
  onDeployed: (campaign: string, detail: Detail) => void;
  onReload: (notice: string, tool: Tool) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const [source, setSource] = useState(asEdited(props.initial));
  const [analysis, setAnalysis] = useState<Analysis | null>(null);
  const [analysisError, setAnalysisError] = useState<unknown>(null);
  const [tool, setTool] = useState<Tool>(props.reloaded?.tool ?? "problems");
  const [restored, setRestored] = useState(props.restored);
  const [lastDraw, setLastDraw] = useState<DryRun | null>(null);
  const [server, setServer] = useState<ServerInfo | null>(null);
  useEffect(() => {
    serverInfo().then(setServer);
  }, []);
  const readOnly = props.live?.origin === "folder";
  const campaign = props.id ?? campaignIdOf(source);
  // What the file is when nothing is edited: the live version, or for a new
  // campaign the template (a restored draft is an edit).
  const baseline = asEdited(props.live?.source ?? TEMPLATE);
  const dirty = source !== baseline;

  useEffect(() => {
    if (!host.current) return;
    const editor = mountEditor(host.current, asEdited(props.initial), {
      onChange: setSource,
      complete,
      hover,
      readOnly,
      label: `Campaign file ${props.id ?? "(new)"}`,
    });
    view.current = editor;
    return () => editor.destroy();
  }, []);

  // Check the file as it is typed, a moment after the last key.
  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      analyze(source).then(
        (answer) => {
          if (!current) return;
          setAnalysis(answer);
          setAnalysisError(null);
          if (view.current) showDiagnostics(view.current, answer.diagnostics);
        },
        (error) => current && setAnalysisError(error),
      );
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [source]);

  // Keep a local draft of unsaved edits, if the browser has room for it.
  const [draftKept, setDraftKept] = useState(true);
  useEffect(() => {
    if (readOnly) return;
    if (dirty) setDraftKept(saveDraft(props.draftKey, source));
    else dropDraft(props.draftKey);
  }, [source, dirty]);

  // Leaving with unsaved edits asks first (the draft stays either way).
  useEffect(() => {
    const ask = () => !dirty || confirm("This file has changes that are not deployed. Leave anyway? (They stay saved as a draft in this browser.)");
    setLeaveGuard(ask);
    const beforeUnload = (event: BeforeUnloadEvent) => {
      if (dirty) event.preventDefault();
    };
    addEventListener("beforeunload", beforeUnload);
    return () => {
      setLeaveGuard(null);
      removeEventListener("beforeunload", beforeUnload);
    };
  }, [dirty]);

  const jump = useMemo(
    () => (d: Analysis["diagnostics"][number]) => {
      if (!view.current) return;
      const { from, to } = rangeOf(view.current, d);
      jumpTo(view.current, from, to);
    },
    [],
  );

  const discard = () => {
    view.current?.dispatch({ changes: { from: 0, to: view.current.state.doc.length, insert: baseline } });
    dropDraft(props.draftKey);
    setRestored(null);
  };

  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const counts = analysis ? `${plural(analysis.errors, "error")}, ${plural(analysis.warnings, "warning")}` : "checking…";
  return (
    <section class="workbench" aria-labelledby="editor-title">
      <div class="heading">
        <h1 id="editor-title">{props.live?.name ?? (props.id ? props.id : "New campaign")}</h1>
        <span class="status" role="status" aria-live="polite" data-testid="check-status">
          {dirty ? "Edited, not deployed" : props.live ? "Same as the live version" : "The template, not deployed"} · {counts}
        </span>
      </div>
      {readOnly && (
        <p class="notice">
          This campaign comes from the server's campaigns folder ({props.live?.path ?? "a file"}): the file is the
          truth, so it is read-only here. Edit the file instead.
        </p>
      )}
      {props.reloaded && (
        <p class="notice" role="status" data-testid="reloaded">
          {props.reloaded.notice}
        </p>
      )}
      {restored && (
        <p class="notice">
          Your unsaved draft from {new Date(restored).toLocaleString()} was restored.{" "}
          <button type="button" onClick={discard}>
            Discard the draft
          </button>
        </p>
      )}
      {!draftKept && (
        <p class="notice" role="status">
          This browser has no room to keep a draft of the file: deploy it, or copy it out, before leaving the page.
        </p>
      )}
      <ErrorLine error={analysisError} />
      <div class="panes">
        <div class="editor" ref={host} />
        <div class="tools">
          <div role="tablist" aria-label="Tools">
            {(
              [
                ["problems", `Problems (${analysis?.diagnostics.length ?? "…"})`],
                ["test", "Draw tester"],
                server?.authoring && ["graph", "Graph"],
                server?.authoring && ["simulate", "Simulation"],
                ["deploy", "Deploy"],
                server?.versions && props.live && ["history", "History"],
              ].filter(Boolean) as [Tool, string][]
            ).map(([name, label]) => (
              <button
                key={name}
                type="button"
                role="tab"
                id={`tab-${name}`}
                aria-selected={tool === name}
                aria-controls={`panel-${name}`}
                onClick={() => setTool(name)}
              >
                {label}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`panel-${tool}`} aria-labelledby={`tab-${tool}`} class="panel">
            {tool === "problems" && <Problems analysis={analysis} onJump={jump} />}
            {tool === "test" && campaign && (
              <Tester
                campaign={campaign}
                source={source}
                analysis={analysis}
                deployed={props.live !== null}
                onResult={setLastDraw}
              />
            )}
            {tool === "test" && !campaign && <p>Give the file a <code>campaign:</code> id first.</p>}
            {tool === "graph" && (
              <RuleGraph
                graph={analysis?.graph ?? null}
                draw={lastDraw}
                onJump={(from, to) => view.current && jumpTo(view.current, from, to)}
              />
            )}
            {tool === "simulate" && <Simulation source={source} />}
            {tool === "history" && props.live && (
              <History
                campaign={props.live.id}
                readOnly={readOnly}
                onRolledBack={(notice) => props.onReload(notice, "history")}
              />
            )}
            {tool === "deploy" && (
              <Deploy
                campaign={campaign}
                source={source}
                live={props.live}
                analysis={analysis}
                readOnly={readOnly}
                onDeployed={props.onDeployed}
              />
            )}
          </div>
        </div>
      </div>
    </section>
  );
}
