// Problem types in words: what the console tells a person when the API
// refuses, instead of a status code.

/** The fields of an API refusal (`api.ts`'s `Problem`) that its message reads. */
interface Refusal {
  type: string;
  title: string;
  detail: string;
  field?: string | null;
}

const MESSAGES: Record<string, string> = {
  unauthenticated: "Sign in first: the console sent no admin token.",
  forbidden: "The admin token is not right, or admin calls are turned off on this server.",
  "unknown-campaign": "There is no such campaign on this server.",
  "invalid-campaign": "The file has errors; fix them before deploying.",
  "invalid-input": "Some input is not right",
  "campaign-not-open": "The campaign is not open.",
  "outside-window": "The campaign's window does not include this moment.",
  "no-draws-left": "The user has no draws left.",
  "daily-cap-reached": "The daily cap is reached.",
  "monthly-cap-reached": "The monthly cap is reached.",
  "total-cap-reached": "The total cap is reached.",
  "campaign-owned-by-folder":
    "This campaign comes from a file in the server's campaigns folder: edit the file instead.",
  "simulation-too-large": "The simulation is too large for the server",
  "simulation-timed-out": "The simulation took longer than the server allows; try fewer users or days.",
  "simulation-busy": "Another simulation is running on the server; try again in a moment.",
  "rate-limited": "Too many calls at once; wait a moment and try again.",
  "store-unavailable": "The server's database did not answer; nothing was changed. Try again.",
  "storage-full": "The server's database is out of space; nothing was changed.",
  "body-too-large": "The file is larger than the server accepts (8 MiB).",
  "malformed-body": "The server could not read what the console sent.",
  "no-such-route": "This server does not offer that call; it may be an older version.",
  "unknown-delivery": "That delivery is no longer dead-lettered.",
  internal: "The server failed; its log has the details.",
};

export function problemMessage(status: number, problem: Refusal | null): string {
  const slug = problem?.type.split("/").pop() ?? "";
  const words = MESSAGES[slug];
  if (words && problem?.field) return `${words}: ${problem.field} — ${problem.detail}`;
  if (words) return problem?.detail && !words.endsWith(".") ? `${words}: ${problem.detail}` : words;
  if (problem) return `${problem.title}: ${problem.detail}`;
  return `The server answered ${status} without saying why.`;
}
