// The API client: every call carries the admin token as a bearer header,
// gives up after a deadline (so no spinner waits forever) and turns a
// problem+json answer into an ApiError whose message is in words.
import { problemMessage } from "./problems";

const TOKEN_KEY = "tombola.console.token";
const DEADLINE_MS = 20_000;

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function signIn(value: string): void {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string | null;
  diagnostics?: Diagnostic[] | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
    message: string,
  ) {
    super(message);
  }
  get slug(): string {
    return this.problem?.type.split("/").pop() ?? "";
  }
}

type Body = { json: unknown } | { yaml: string } | undefined;

export async function call<T>(
  method: string,
  path: string,
  body?: Body,
  options: { deadline?: number; bearer?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = { "Tombola-Client": "console" };
  const bearer = options.bearer ?? token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let payload: string | undefined;
  if (body && "json" in body) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body.json);
  } else if (body && "yaml" in body) {
    headers["Content-Type"] = "application/yaml";
    payload = body.yaml;
  }
  const abort = new AbortController();
  const deadline = options.deadline ?? DEADLINE_MS;
  const timer = setTimeout(() => abort.abort(), deadline);
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: payload, signal: abort.signal });
  } catch (error) {
    const why = abort.signal.aborted
      ? `the server did not answer within ${deadline / 1000} s`
      : "the server cannot be reached";
    throw new ApiError(0, null, `${why}; try again`);
  } finally {
    clearTimeout(timer);
  }
  if (response.status === 204) return null as T;
  const text = await response.text();
  const parsed = text ? safeJson(text) : null;
  if (!response.ok) {
    const problem = isProblem(parsed) ? parsed : null;
    throw new ApiError(response.status, problem, problemMessage(response.status, problem));
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isProblem(value: unknown): value is Problem {
  return typeof value === "object" && value !== null && "type" in value && "status" in value;
}

export const enc = encodeURIComponent;

/** What the serving binary tells the console about itself (`/console/server.json`). */
export interface ServerInfo {
  /** The admin token of `serve --dev`, offered at sign-in; null otherwise. */
  dev_admin_token: string | null;
  /** Whether the API has `/v1/authoring/*` (analysis, completion, simulation). */
  authoring: boolean;
  /** Whether the API has versions, diffs and rollback. */
  versions: boolean;
}

let info: Promise<ServerInfo> | null = null;

export function serverInfo(): Promise<ServerInfo> {
  info ??= call<ServerInfo>("GET", "/console/server.json", undefined, { bearer: "" }).catch(() => {
    info = null;
    return { dev_admin_token: null, authoring: false, versions: false };
  });
  return info;
}

// The shapes the console reads (see docs/openapi.json).
export type State = "draft" | "open" | "closed";

export interface Summary {
  id: string;
  name: string;
  version: number;
  state: State;
  origin?: "folder" | "console" | "api";
  path?: string | null;
}

export interface Detail extends Summary {
  source: string;
  graph: { mermaid: string };
}

export interface Stats {
  campaign: string;
  version: number;
  draws: number;
  awards: {
    award: string;
    title: string | null;
    issued: number;
    stock: { declared: number; remaining: number; issued: number } | null;
  }[];
  days: { day: string; draws: number; awards: Record<string, number> }[];
}

export interface Diagnostic {
  code: string;
  severity: string;
  message: string;
  help?: string | null;
  label?: string;
  /** 1-based line and column (in characters), as `tombola check --format json`. */
  start?: { line: number; column: number };
  end?: { line: number; column: number };
  /** UTF-16 offsets (analyze only). */
  from?: number;
  to?: number;
  [key: string]: unknown;
}

export interface Validation {
  valid: boolean;
  errors: number;
  warnings: number;
  diagnostics: Diagnostic[];
  /** Findings counted but not listed (`/v1/authoring/analyze` lists the first 500). */
  omitted?: number;
}

export interface Step {
  at: string;
  outcome: string;
  read?: number | null;
  inputs?: [string, string][];
}

export interface DrawResponse {
  campaign: string;
  version: number;
  request_id: string;
  user: string;
  award: { id: string; kind: string; title?: string | null; [key: string]: unknown };
  steps: Step[];
  left: { draws: number; today?: number | null; month?: number | null; total?: number | null };
  seed: string;
}

export interface DryRun {
  dry_run: true;
  campaign: string;
  version: number;
  user: string;
  draw: DrawResponse | null;
  refused: Problem | null;
}

export interface Delivery {
  id: number;
  campaign: string;
  request_id: string;
  user: string;
  award: string;
  state: string;
  attempts: number;
  next_at: string;
  created_at: string;
  last_error: string | null;
  delivered_at: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  detail: string;
}

export interface Deployment {
  campaign: string;
  version: number;
  changed: boolean;
  warnings: { code: string; message: string }[];
}

export function requestId(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return "console-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
