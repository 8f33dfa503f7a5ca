// A campaign's history: its versions (time, content hash, origin, note),
// the semantic diff between any two, and rollback to an earlier one.
import { useEffect, useState } from "preact/hooks";
import { call, enc } from "../api";
import { Busy, Confirm, ErrorLine, Table } from "../ui";
import { Changes, type SemanticDiff } from "./changes";

interface Version {
  version: number;
  deployed_at: string;
  sha256: string;
  origin: string;
  path: string | null;
  note: string | null;
  live: boolean;
}

export function History({ campaign, readOnly, onRolledBack }: { campaign: string; readOnly: boolean; onRolledBack: (notice: string) => void }) {
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [pair, setPair] = useState<[number, number] | null>(null);
  const [diff, setDiff] = useState<SemanticDiff | null>(null);
  const [asking, setAsking] = useState<number | null>(null);

  const load = () =>
    call<{ versions: Version[] }>("GET", `/v1/campaigns/${enc(campaign)}/versions`).then(
      (answer) => setVersions(answer.versions),
      (failure) => {
        setError(failure);
        setVersions([]);
      },
    );
  useEffect(() => {
    load();
  }, [campaign]);

  useEffect(() => {
    if (!pair) return;
    setDiff(null);
    call<SemanticDiff>("GET", `/v1/campaigns/${enc(campaign)}/versions/${pair[0]}/diff/${pair[1]}`).then(setDiff, setError);
  }, [pair]);

  const rollback = async (yes: boolean) => {
    const version = asking;
    setAsking(null);
    if (!yes || version === null) return;
    try {
      const answer = await call<{ version: number }>("POST", `/v1/campaigns/${enc(campaign)}/rollback`, {
        json: { version, note: `rollback to version ${version}` },
      });
      // The editor starts over on the rolled-back file, saying so.
      onRolledBack(`Version ${version}'s file is live again, as version ${answer.version}.`);
    } catch (failure) {
      setError(failure);
    }
  };

  if (versions === null) return <Busy what="Loading the versions" />;
  return (
    <div class="history">
      <ErrorLine error={error} />
      <Table caption="Versions, newest first" head={["Version", "Deployed", "Hash", "From", "Note", { hidden: "Actions" }]}>
        {versions.map((v, index) => (
          <tr key={v.version} data-version={v.version}>
            <td>
              {v.version}
              {v.live ? " (live)" : ""}
            </td>
            <td>{new Date(v.deployed_at).toLocaleString()}</td>
            <td>
              <code title={v.sha256}>{v.sha256.slice(0, 12)}</code>
            </td>
            <td>{v.path ? `${v.origin}: ${v.path}` : v.origin}</td>
            <td>{v.note ?? ""}</td>
            <td class="row-actions">
              {index + 1 < versions.length && (
                <button type="button" onClick={() => setPair([versions[index + 1].version, v.version])}>
                  Diff with {versions[index + 1].version}
                </button>
              )}
              {!v.live && !readOnly && (
                <button type="button" onClick={() => setAsking(v.version)}>
                  Roll back to {v.version}…
                </button>
              )}
            </td>
          </tr>
        ))}
      </Table>
      {versions.length > 1 && <DiffPicker versions={versions} onPick={setPair} />}
      {pair && (
        <section aria-label={`Changes from version ${pair[0]} to ${pair[1]}`}>
          <h3>
            Version {pair[0]} → {pair[1]}
          </h3>
          {diff === null ? <Busy what="Comparing" /> : <Changes diff={diff} />}
        </section>
      )}
      {asking !== null && (
        <Confirm title={`Roll back to version ${asking}?`} confirm="Roll back" danger onAnswer={rollback}>
          <p>Version {asking}'s file is deployed again as a new version; the history keeps every version.</p>
        </Confirm>
      )}
    </div>
  );
}

function DiffPicker({ versions, onPick }: { versions: Version[]; onPick: (pair: [number, number]) => void }) {
  const [a, setA] = useState(String(versions[versions.length - 1].version));
  const [b, setB] = useState(String(versions[0].version));
  return (
    <form
      class="grid"
      onSubmit={(event) => {
        event.preventDefault();
        onPick([Number(a), Number(b)]);
      }}
    >
      <label>
        From version
        <select value={a} onChange={(e) => setA(e.currentTarget.value)}>
          {versions.map((v) => (
            <option key={v.version}>{v.version}</option>
          ))}
        </select>
      </label>
      <label>
        To version
        <select value={b} onChange={(e) => setB(e.currentTarget.value)}>
          {versions.map((v) => (
            <option key={v.version}>{v.version}</option>
          ))}
        </select>
      </label>
      <div class="actions">
        <button type="submit">Compare</button>
      </div>
    </form>
  );
}
