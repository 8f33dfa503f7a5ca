// Operations: the audit log (newest first, paged) and the delivery dead
// letters, each of which can be sent again.
import { useEffect, useState } from "preact/hooks";
import { type AuditEntry, type Delivery, call } from "./api";
import { Busy, ErrorLine, Table } from "./ui";

export function Operations() {
  return (
    <>
      <h1>Operations</h1>
      <DeadLetters />
      <Audit />
    </>
  );
}

function DeadLetters() {
  const [rows, setRows] = useState<Delivery[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const load = () =>
    call<{ deliveries: Delivery[] }>("GET", "/v1/deliveries?state=dead&limit=500").then(
      (answer) => setRows(answer.deliveries),
      (failure) => {
        setError(failure);
        setRows([]);
      },
    );
  useEffect(() => {
    load();
  }, []);
  const retry = async (delivery: Delivery) => {
    try {
      await call("POST", `/v1/deliveries/${delivery.id}/retry`);
      setNotice(`Delivery ${delivery.id} is queued again.`);
      load();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <section aria-labelledby="dead-title">
      <h2 id="dead-title">Dead letters</h2>
      <ErrorLine error={error} />
      {notice && <p role="status">{notice}</p>}
      {rows === null ? (
        <Busy what="Loading the dead letters" />
      ) : rows.length === 0 ? (
        <p>No delivery is dead-lettered.</p>
      ) : (
        <div class="scroll">
          <Table head={["Id", "Campaign", "User", "Award", "Attempts", "Last error", { hidden: "Action" }]}>
            {rows.map((d) => (
              <tr key={d.id}>
                <td>{d.id}</td>
                <td>{d.campaign}</td>
                <td>{d.user}</td>
                <td>{d.award}</td>
                <td>{d.attempts}</td>
                <td>{d.last_error ?? ""}</td>
                <td>
                  <button type="button" onClick={() => retry(d)}>
                    Retry
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        </div>
      )}
    </section>
  );
}

function Audit() {
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const page = async (before?: number) => {
    try {
      const query = before ? `?limit=50&before=${before}` : "?limit=50";
      const answer = await call<{ entries: AuditEntry[] }>("GET", `/v1/audit${query}`);
      setEntries((old) => [...(before ? (old ?? []) : []), ...answer.entries]);
      setMore(answer.entries.length === 50);
    } catch (failure) {
      setError(failure);
      setEntries((old) => old ?? []);
    }
  };
  useEffect(() => {
    page();
  }, []);
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <ErrorLine error={error} />
      {entries === null ? (
        <Busy what="Loading the audit log" />
      ) : entries.length === 0 ? (
        <p>Nothing is logged yet.</p>
      ) : (
        <div class="scroll">
          <Table head={["When", "Who", "What", "On", "Detail"]}>
            {entries.map((e) => (
              <tr key={e.id}>
                <td>{new Date(e.at).toLocaleString()}</td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td>{e.target}</td>
                <td>{e.detail}</td>
              </tr>
            ))}
          </Table>
        </div>
      )}
      {more && (
        <button type="button" onClick={() => page(entries![entries!.length - 1].id)}>
          Older entries
        </button>
      )}
    </section>
  );
}
