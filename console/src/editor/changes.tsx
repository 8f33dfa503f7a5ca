// The semantic diff (`tombola diff`'s JSON) as a list a marketer reads:
// each change under its section, and the expected cost per draw before and
// after; the deploy review and the history both show it.

export interface SemanticDiff {
  campaign: string;
  changes: { section: string; what: string }[];
  credits_per_draw: [string | null, string | null];
  cost_per_draw: [string, string];
}

export function Changes({ diff }: { diff: SemanticDiff }) {
  const [before, after] = diff.cost_per_draw;
  return (
    <div class="semantic-diff" data-testid="semantic-diff">
      {diff.changes.length === 0 ? (
        <p>No change in what draws give (only layout, comments or text differ).</p>
      ) : (
        <ul>
          {diff.changes.map((change, index) => (
            <li key={index}>
              <strong>{change.section}</strong>: {change.what}
            </li>
          ))}
        </ul>
      )}
      <p class="help">
        Expected cost per draw: {before === after ? `${after} (unchanged)` : `${before} → ${after}`}
      </p>
    </div>
  );
}
