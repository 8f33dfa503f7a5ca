// The simulation dashboard: users, days and seed as knobs over
// `/v1/authoring/simulate`, the report's figures (draws, fallback rate, cost
// per draw, each award's run-out day) and its charts, drawn with uPlot with
// axes, units and legends.
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import { call } from "../api";
import { Busy, ErrorLine, Form, Table } from "../ui";

interface Band {
  p5: number;
  mean: number;
  p95: number;
}

export interface Report {
  campaign: string;
  users: number;
  days: number;
  seed: number;
  draws: number;
  refused: Record<string, number>;
  awards: { award: string; issued: number; share: number; rate: string | null; sold_out_on_day: number | null }[];
  fallback_rate: number;
  cost_per_draw: string;
  expected_cost_per_draw: string;
  warnings?: { award: string; kind: string; reason: string }[];
  charts: { title: string; unit: string; first_day: number; series: { name: string; points: Band[] }[] }[];
}

const COLOURS = ["#1d4ed8", "#b42318", "#116329", "#9a6700", "#6e40c9", "#0e7490", "#be185d", "#57606a"];

export function Simulation({ source }: { source: string }) {
  const [users, setUsers] = useState("200");
  const [days, setDays] = useState("14");
  const [seed, setSeed] = useState("1");
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { source, users: Number(users), days: Number(days) };
      if (seed) body.seed = seed.trim();
      setReport(await call<Report>("POST", "/v1/authoring/simulate", { json: body }, { deadline: 120_000 }));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="simulation">
      <Form onSubmit={run}>
        <label>
          Users
          <input type="number" min={1} value={users} onInput={(e) => setUsers(e.currentTarget.value)} />
        </label>
        <label>
          Days
          <input type="number" min={1} value={days} onInput={(e) => setDays(e.currentTarget.value)} />
        </label>
        <label>
          Seed
          <input inputMode="numeric" pattern="[0-9]*" value={seed} onInput={(e) => setSeed(e.currentTarget.value)} />
        </label>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Simulate
          </button>
        </div>
      </Form>
      {busy && <Busy what="Simulating" />}
      <ErrorLine error={error} />
      {report && <ReportView report={report} />}
    </div>
  );
}

export function ReportView({ report }: { report: Report }) {
  const refused = Object.values(report.refused).reduce((a, b) => a + b, 0);
  return (
    <div class="report" data-testid="simulation-report">
      <dl class="facts">
        <div>
          <dt>Draws</dt>
          <dd>{report.draws}</dd>
        </div>
        <div>
          <dt>Refused</dt>
          <dd>{refused}</dd>
        </div>
        <div>
          <dt>Fallback rate</dt>
          <dd data-fact="fallback-rate">{(report.fallback_rate * 100).toFixed(1)} %</dd>
        </div>
        <div>
          <dt>Cost per draw</dt>
          <dd data-fact="cost-per-draw">
            {report.cost_per_draw} (expected {report.expected_cost_per_draw})
          </dd>
        </div>
      </dl>
      <Table caption="Awards" head={["Award", "Issued", "Share", "Rate", "Runs out on day"]}>
        {report.awards.map((a) => (
          <tr key={a.award}>
            <td>{a.award}</td>
            <td>{a.issued}</td>
            <td>{(a.share * 100).toFixed(1)} %</td>
            <td>{a.rate ?? ""}</td>
            <td>{a.sold_out_on_day ?? "—"}</td>
          </tr>
        ))}
      </Table>
      {report.charts.map((chart) => (
        <Chart key={chart.title} chart={chart} />
      ))}
    </div>
  );
}

function Chart({ chart }: { chart: Report["charts"][number] }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!host.current) return;
    const length = Math.max(0, ...chart.series.map((s) => s.points.length));
    const x = Array.from({ length }, (_, i) => chart.first_day + i);
    const data: uPlot.AlignedData = [x, ...chart.series.map((s) => s.points.map((p) => p.mean))];
    const width = Math.max(280, Math.min(640, host.current.clientWidth || 560));
    const plot = new uPlot(
      {
        title: chart.title,
        width,
        height: 220,
        scales: { x: { time: false } },
        axes: [
          { label: "day", stroke: "#57606a" },
          { label: chart.unit, stroke: "#57606a" },
        ],
        series: [
          { label: "day" },
          ...chart.series.map((s, i) => ({ label: s.name, stroke: COLOURS[i % COLOURS.length], width: 2 })),
        ],
      },
      data,
      host.current,
    );
    return () => plot.destroy();
  }, [chart]);
  return <figure class="chart" ref={host} aria-label={`${chart.title} (${chart.unit} per day)`} />;
}
