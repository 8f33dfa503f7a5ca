// The language service over HTTP: `/v1/authoring/*` when the server has
// it, else `POST /v1/campaigns/validate` (diagnostics only). Which one the
// server has is learnt from the first answer and kept.
import type { CompletionContext, CompletionResult } from "@codemirror/autocomplete";
import type { EditorView, Tooltip } from "@codemirror/view";
import { type Diagnostic, type Validation, call, serverInfo } from "../api";

export interface Input {
  name: string;
  type: string;
  values?: unknown[];
  min?: number;
  max?: number;
  doc?: string;
}

export interface GraphNode {
  id: string;
  kind: string;
  label: string;
  from: number;
  to: number;
}

export interface Graph {
  nodes: GraphNode[];
  edges: { from: string; to: string; label: string | null }[];
}

export interface Analysis extends Validation {
  graph: Graph | null;
  inputs: Input[] | null;
  /** Whether the server analysed the file (`/v1/authoring`), or only validated it. */
  authoring: boolean;
}

let authoring = false;

/** Whether the server offers `/v1/authoring` (known once the first analysis asked). */
export function hasAuthoring(): boolean {
  return authoring;
}

export async function analyze(source: string): Promise<Analysis> {
  authoring = (await serverInfo()).authoring;
  if (authoring) {
    const answer = await call<Omit<Analysis, "authoring">>("POST", "/v1/authoring/analyze", { json: { source } });
    return { ...answer, authoring: true };
  }
  const answer = await call<Validation>("POST", "/v1/campaigns/validate", { yaml: source });
  return { ...answer, graph: null, inputs: declaredInputs(source), authoring: false };
}

/**
 * The `inputs.user` declarations read from the file's lines, for the draw
 * tester's form when the server cannot analyse the file (one `name: type`
 * per line under `inputs:` → `user:`).
 */
export function declaredInputs(source: string): Input[] {
  const lines = source.split("\n");
  const inputs: Input[] = [];
  let inInputs = false;
  let userIndent = -1;
  for (const raw of lines) {
    const line = raw.replace(/\s+#.*$/, "");
    if (!line.trim()) continue;
    const indent = line.length - line.trimStart().length;
    if (indent === 0) {
      inInputs = /^inputs:\s*$/.test(line);
      userIndent = -1;
      continue;
    }
    if (!inInputs) continue;
    if (userIndent < 0) {
      if (/^\s+user:\s*$/.test(line)) userIndent = indent;
      continue;
    }
    if (indent <= userIndent) {
      userIndent = -2;
      continue;
    }
    const match = line.trim().match(/^([A-Za-z_][\w-]*):\s*(.+)$/);
    if (match) inputs.push({ name: match[1], type: match[2].trim() });
  }
  return inputs;
}

/** Award ids declared in the file (`awards:` keys), for `lands_on` and test expectations. */
export function declaredAwards(source: string): string[] {
  const ids: string[] = [];
  let inAwards = false;
  for (const line of source.split("\n")) {
    if (/^\S/.test(line)) inAwards = /^awards:\s*(#.*)?$/.test(line);
    else if (inAwards) {
      const match = line.match(/^ {2}([A-Za-z_][\w-]*):/);
      if (match) ids.push(match[1]);
    }
  }
  return ids;
}

/** A file as the editor holds it: CodeMirror joins lines with `\n`, so a file
 * written with CRLF is compared, analysed and deployed in that form. */
export function asEdited(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

export function campaignIdOf(source: string): string | null {
  return source.match(/^campaign:\s*["']?([A-Za-z0-9_.-]+)/m)?.[1] ?? null;
}

interface CompletionAnswer {
  from: number;
  to: number;
  items: { label: string; kind: string; detail?: string; documentation?: string; insert: string }[];
}

export async function complete(context: CompletionContext): Promise<CompletionResult | null> {
  if (!hasAuthoring()) return localAwards(context);
  const source = context.state.doc.toString();
  const answer = await call<CompletionAnswer>("POST", "/v1/authoring/complete", {
    json: { source, offset: context.pos },
  }).catch(() => null);
  if (!answer || answer.items.length === 0) return null;
  return {
    from: answer.from,
    to: answer.to,
    options: answer.items.map((item) => ({
      label: item.label,
      type: item.kind,
      detail: item.detail,
      info: item.documentation,
      apply: item.insert,
    })),
  };
}

/** Without the server's completion: the file's award ids, for the word being typed. */
function localAwards(context: CompletionContext): CompletionResult | null {
  const word = context.matchBefore(/[\w-]*/);
  if (!word || (word.from === word.to && !context.explicit)) return null;
  const ids = declaredAwards(context.state.doc.toString());
  return { from: word.from, options: ids.map((id) => ({ label: id, type: "award", detail: "award" })) };
}

export async function hover(view: EditorView, pos: number): Promise<Tooltip | null> {
  if (!hasAuthoring()) return null;
  const answer = await call<{ markdown: string; from: number; to: number } | null>("POST", "/v1/authoring/hover", {
    json: { source: view.state.doc.toString(), offset: pos },
  }).catch(() => null);
  if (!answer) return null;
  return {
    pos: answer.from,
    end: answer.to,
    create: () => {
      const dom = document.createElement("div");
      dom.className = "cm-hover";
      dom.textContent = answer.markdown;
      return { dom };
    },
  };
}

export type { Diagnostic };
