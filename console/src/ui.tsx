// Small shared pieces: a confirmation dialog, an error line, a busy line
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
