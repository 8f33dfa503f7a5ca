// Small shared pieces: a confirmation dialog, an error line, a table, a busy line
// whose wait always ends (the API client gives up after its deadline).
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

export function ErrorLine({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof Error ? error.message : String(error);
  return (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

export function Busy({ what }: { what: string }) {
  return (
    <p class="busy" role="status" aria-live="polite">
      {what}…
    </p>
  );
}

/** A modal confirmation; `onAnswer(true)` when confirmed, `false` when cancelled or closed. */
export function Confirm(props: {
  title: string;
  confirm: string;
  danger?: boolean;
  onAnswer: (yes: boolean) => void;
  children?: ComponentChildren;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);
  return (
    <dialog
      ref={dialog}
      aria-labelledby="confirm-title"
      onCancel={(event) => {
        event.preventDefault();
        props.onAnswer(false);
      }}
    >
      <h2 id="confirm-title">{props.title}</h2>
      {props.children}
      <div class="actions">
        <button type="button" onClick={() => props.onAnswer(false)}>
          Cancel
        </button>
        <button
          type="button"
          class={props.danger ? "danger" : "primary"}
          onClick={() => props.onAnswer(true)}
        >
          {props.confirm}
        </button>
      </div>
    </dialog>
  );
}

/** A column's heading: its name, or a name only a screen reader says (a column of buttons). */
export type Heading = string | { hidden: string };

/** A table with a row of column headings; `children` are its body's rows. */
export function Table(props: { caption?: string; head: Heading[]; children: ComponentChildren }) {
  return (
    <table>
      {props.caption && <caption>{props.caption}</caption>}
      <thead>
        <tr>
          {props.head.map((heading) => (
            <th scope="col" key={typeof heading === "string" ? heading : heading.hidden}>
              {typeof heading === "string" ? heading : <span class="visually-hidden">{heading.hidden}</span>}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  );
}

/** A form of labelled fields in a grid; submitting it (a button or Enter) calls `onSubmit`, nothing is sent. */
export function Form(props: { onSubmit: () => void; children: ComponentChildren }) {
  return (
    <form
      class="grid"
      onSubmit={(event) => {
        event.preventDefault();
        props.onSubmit();
      }}
    >
      {props.children}
    </form>
  );
}
