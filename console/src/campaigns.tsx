// The campaigns list: state, window, version, today's draws, stock left per
// stocked award against its declared stock, dead letters; open and close
// after a confirmation. Folder-owned campaigns are marked read-only.
import { useCallback, useEffect, useState } from "preact/hooks";
import { type Delivery, type Detail, type Stats, type Summary, call, enc } from "./api";
import { linkProps } from "./router";
import { Busy, Confirm, ErrorLine } from "./ui";

interface Row {
  summary: Summary;
  detail: Detail | null;
  stats: Stats | null;
  dead: number;
}

/** The `window:` line of a file, read without a YAML parser (the list only shows it). */
export function windowOf(source: string): { text: string; zone: string | null } {
  const line = source.split("\n").find((l) => /^window:/.test(l));
  if (!line) return { text: "always", zone: null };
  const value = line.replace(/^window:\s*/, "").replace(/\s+#.*$/, "");
  const field = (name: string) => value.match(new RegExp(`${name}:\\s*([^,}\\s]+)`))?.[1] ?? null;
  const from = field("from");
  const to = field("to");
  const text = from || to ? `${from ?? "…"} → ${to ?? "no end"}` : value;
  return { text, zone: field("zone") };
}

/** Today's date (`YYYY-MM-DD`) in `zone`, the campaign's day the stats count in. */
export function today(zone: string | null, now = new Date()): string {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: zone ?? "UTC" }).format(now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

async function load(): Promise<Row[]> {
  const [{ campaigns }, dead] = await Promise.all([
    call<{ campaigns: Summary[] }>("GET", "/v1/campaigns"),
    call<{ deliveries: Delivery[] }>("GET", "/v1/deliveries?state=dead&limit=500"),
  ]);
  return Promise.all(
    campaigns.map(async (summary) => {
      const [detail, stats] = await Promise.all([
        call<Detail>("GET", `/v1/campaigns/${enc(summary.id)}`).catch(() => null),
        call<Stats>("GET", `/v1/campaigns/${enc(summary.id)}/stats`).catch(() => null),
      ]);
      const count = dead.deliveries.filter((d) => d.campaign === summary.id).length;
      return { summary: { ...summary, ...(detail ?? {}) }, detail, stats, dead: count };
    }),
  );
}

export function Campaigns() {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [asking, setAsking] = useState<{ id: string; to: "open" | "close" } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const refresh = useCallback(() => {
    setError(null);
    load().then(setRows, (failure) => {
      setError(failure);
      setRows((old) => old ?? []);
    });
  }, []);
  useEffect(refresh, [refresh]);

  const change = async (yes: boolean) => {
    const target = asking;
    setAsking(null);
    if (!yes || !target) return;
    try {
      await call("POST", `/v1/campaigns/${enc(target.id)}/${target.to}`);
      setNotice(`${target.id} is ${target.to === "open" ? "open" : "closed"}.`);
      refresh();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section aria-labelledby="campaigns-title">
      <div class="heading">
        <h1 id="campaigns-title">Campaigns</h1>
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      </div>
      <ErrorLine error={error} />
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {rows === null ? (
        <Busy what="Loading the campaigns" />
      ) : rows.length === 0 ? (
        <p>No campaign is deployed yet. Create one with “New campaign”, or put files in the server's campaigns folder.</p>
      ) : (
        <ul class="campaigns">
          {rows.map((row) => (
            <CampaignCard key={row.summary.id} row={row} onAsk={setAsking} />
          ))}
        </ul>
      )}
      {asking && (
        <Confirm
          title={`${asking.to === "open" ? "Open" : "Close"} ${asking.id}?`}
          confirm={asking.to === "open" ? "Open it" : "Close it"}
          danger={asking.to === "close"}
          onAnswer={change}
        >
          <p>
            {asking.to === "open"
              ? "Users can draw as soon as it is open (within its window)."
              : "Draws are refused while it is closed; what users already won stays theirs."}
          </p>
        </Confirm>
      )}
    </section>
  );
}

function CampaignCard({ row, onAsk }: { row: Row; onAsk: (a: { id: string; to: "open" | "close" }) => void }) {
  const { summary, detail, stats } = row;
  const window = windowOf(detail?.source ?? "");
  const day = today(window.zone);
  const drawsToday = stats?.days.find((d) => d.day === day)?.draws ?? 0;
  const stocked = stats?.awards.filter((a) => a.stock) ?? [];
  const folder = summary.origin === "folder";
  return (
    <li class="campaign" data-campaign={summary.id}>
      <div class="campaign-head">
        <h2>
          <a {...linkProps({ page: "editor", id: summary.id })}>{summary.name}</a>
        </h2>
        <span class={`state state-${summary.state}`}>{summary.state}</span>
      </div>
      <dl class="facts">
        <div>
          <dt>Id</dt>
          <dd>
            <code>{summary.id}</code>
          </dd>
        </div>
        <div>
          <dt>Window</dt>
          <dd>
            {window.text}
            {window.zone ? ` (${window.zone})` : ""}
          </dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{summary.version}</dd>
        </div>
        <div>
          <dt>Draws today</dt>
          <dd data-fact="draws-today">{drawsToday}</dd>
        </div>
        <div>
          <dt>Dead letters</dt>
          <dd data-fact="dead">{row.dead}</dd>
        </div>
        {summary.origin && (
          <div>
            <dt>Source</dt>
            <dd>{folder ? `file ${summary.path ?? ""} (read-only here)` : summary.origin}</dd>
          </div>
        )}
      </dl>
      {stocked.length > 0 && (
        <div class="stock">
          <h3>Stock left</h3>
          {stocked.map((award) => (
            <StockBar key={award.award} name={award.title ?? award.award} stock={award.stock!} />
          ))}
        </div>
      )}
      <div class="actions">
        {summary.state === "open" ? (
          <button type="button" onClick={() => onAsk({ id: summary.id, to: "close" })}>
            Close…
          </button>
        ) : (
          <button type="button" onClick={() => onAsk({ id: summary.id, to: "open" })}>
            Open…
          </button>
        )}
        <a class="button" {...linkProps({ page: "editor", id: summary.id })}>
          {folder ? "View" : "Edit"}
        </a>
      </div>
    </li>
  );
}

function StockBar({ name, stock }: { name: string; stock: { declared: number; remaining: number } }) {
  return (
    <div class="stock-row">
      <label>
        <span>{name}</span>
        <meter min={0} max={stock.declared} value={stock.remaining} low={stock.declared * 0.2} optimum={stock.declared}>
          {stock.remaining} of {stock.declared}
        </meter>
        <span class="figure">
          {stock.remaining} of {stock.declared} left
        </span>
      </label>
    </div>
  );
}
