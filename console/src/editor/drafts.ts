// Drafts and saved test cases in local storage, per campaign, so an edit
// survives a reload and a test case outlives the session.
const DRAFT = "tombola.console.draft.";
const CASES = "tombola.console.cases.";

export interface Draft {
  source: string;
  saved_at: string;
}

export function loadDraft(key: string): Draft | null {
  try {
    const value = localStorage.getItem(DRAFT + key);
    return value ? (JSON.parse(value) as Draft) : null;
  } catch {
    return null;
  }
}

/** Whether the draft was kept: a browser's storage holds a few megabytes, and a file may be larger. */
export function saveDraft(key: string, source: string): boolean {
  try {
    localStorage.setItem(DRAFT + key, JSON.stringify({ source, saved_at: new Date().toISOString() }));
    return true;
  } catch {
    return false;
  }
}

export function dropDraft(key: string): void {
  localStorage.removeItem(DRAFT + key);
}

export interface TestCase {
  name: string;
  user: string;
  attributes: Record<string, unknown>;
  seed: string;
  lands_on: string;
  counts?: { today?: number; total?: number };
  credits?: string;
  /** The award this case expects (the one it gave when saved). */
  expect: string | null;
}

export function loadCases(campaign: string): TestCase[] {
  try {
    return JSON.parse(localStorage.getItem(CASES + campaign) ?? "[]") as TestCase[];
  } catch {
    return [];
  }
}

/** Whether the cases were kept (see [saveDraft]). */
export function saveCases(campaign: string, cases: TestCase[]): boolean {
  try {
    localStorage.setItem(CASES + campaign, JSON.stringify(cases));
    return true;
  } catch {
    return false;
  }
}
