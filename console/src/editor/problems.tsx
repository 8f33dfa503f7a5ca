// The problems list: every diagnostic with its code, line and help; a
// click (or Enter) puts the cursor on its span in the editor.
import type { Analysis, Diagnostic } from "./analysis";

export function Problems({ analysis, onJump }: { analysis: Analysis | null; onJump: (d: Diagnostic) => void }) {
  if (!analysis) return <p role="status">Checking the file…</p>;
  if (analysis.diagnostics.length === 0) return <p class="ok">No problems: the file is valid.</p>;
  return (
    <ul class="problems" aria-label="Problems">
      {analysis.diagnostics.map((d, index) => (
        <li key={index} class={`problem problem-${d.severity}`}>
          <button type="button" onClick={() => onJump(d)}>
            <span class="where">
              {d.start ? `line ${d.start.line}, column ${d.start.column}` : "the file"}
            </span>{" "}
            <span class="severity">{d.severity}</span> <code class="code">{d.code}</code>
            <span class="message">{d.message}</span>
          </button>
          {d.help && <p class="help">{d.help}</p>}
        </li>
      ))}
      {(analysis.omitted ?? 0) > 0 && (
        <li class="problem" data-testid="omitted">
          …and {analysis.omitted} more, not listed: fix these first.
        </li>
      )}
    </ul>
  );
}
