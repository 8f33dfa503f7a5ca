// The YAML editor. CodeMirror writes its styles through style-mod, which
// uses a <style> element in a document (refused by the console's CSP,
// `style-src 'self'`) but a constructed stylesheet (`adoptedStyleSheets`,
// which CSP does not govern) in a shadow root: so the editor lives in one.
import { autocompletion, type CompletionSource, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { yaml } from "@codemirror/lang-yaml";
import { bracketMatching, foldGutter, indentOnInput } from "@codemirror/language";
import { type Diagnostic as CmDiagnostic, lintGutter, setDiagnostics } from "@codemirror/lint";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { EditorState, type Extension } from "@codemirror/state";
import {
  EditorView,
  type Tooltip,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  hoverTooltip,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { syntaxHighlighting, defaultHighlightStyle } from "@codemirror/language";
import type { Diagnostic } from "../api";

export interface EditorHooks {
  onChange: (source: string) => void;
  complete?: CompletionSource;
  hover?: (view: EditorView, pos: number) => Promise<Tooltip | null>;
  readOnly: boolean;
  label: string;
}

const theme = EditorView.theme({
  "&": { height: "100%", fontSize: "14px", backgroundColor: "#fff" },
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" },
  ".cm-content": { padding: "8px 0" },
  "&.cm-focused": { outline: "2px solid #1d4ed8" },
  ".cm-tooltip": { maxWidth: "32rem", fontSize: "13px" },
  ".cm-tooltip-hover": { padding: "4px 8px", whiteSpace: "pre-wrap" },
  ".cm-diagnostic": { whiteSpace: "pre-wrap" },
});

/** Mounts an editor in a shadow root under `host`. */
export function mountEditor(host: HTMLElement, source: string, hooks: EditorHooks): EditorView {
  const root = host.shadowRoot ?? host.attachShadow({ mode: "open" });
  const parent = document.createElement("div");
  parent.className = "cm-host";
  parent.style.height = "100%";
  root.replaceChildren(parent);
  const extensions: Extension[] = [
    lineNumbers(),
    highlightActiveLineGutter(),
    foldGutter(),
    history(),
    drawSelection(),
    indentOnInput(),
    bracketMatching(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    yaml(),
    lintGutter(),
    theme,
    EditorState.tabSize.of(2),
    EditorView.contentAttributes.of({ "aria-label": hooks.label }),
    keymap.of([indentWithTab, ...defaultKeymap, ...historyKeymap, ...searchKeymap, ...completionKeymap]),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) hooks.onChange(update.state.doc.toString());
    }),
  ];
  if (hooks.readOnly) extensions.push(EditorState.readOnly.of(true), EditorView.editable.of(false));
  if (hooks.complete) extensions.push(autocompletion({ override: [hooks.complete], activateOnTyping: true }));
  if (hooks.hover) extensions.push(hoverTooltip((view, pos) => hooks.hover!(view, pos)));
  return new EditorView({ parent, root, state: EditorState.create({ doc: source, extensions }) });
}

/** The UTF-16 range of a diagnostic: its offsets when given, else its 1-based line and column. */
export function rangeOf(view: EditorView, d: Diagnostic): { from: number; to: number } {
  const doc = view.state.doc;
  const clamp = (n: number) => Math.max(0, Math.min(doc.length, n));
  if (typeof d.from === "number" && typeof d.to === "number") return { from: clamp(d.from), to: clamp(d.to) };
  const at = (p?: { line: number; column: number }) => {
    if (!p) return 0;
    const line = doc.line(Math.max(1, Math.min(doc.lines, p.line)));
    return clamp(line.from + columnToOffset(line.text, p.column));
  };
  const from = at(d.start);
  const to = d.end ? at(d.end) : from;
  return { from, to: Math.max(from, to) };
}

/** A 1-based column counted in characters (code points) as a UTF-16 offset into `text`. */
function columnToOffset(text: string, column: number): number {
  let offset = 0;
  let chars = 1;
  for (const ch of text) {
    if (chars >= column) break;
    offset += ch.length;
    chars += 1;
  }
  return offset + Math.max(0, column - chars);
}

export function showDiagnostics(view: EditorView, diagnostics: Diagnostic[]): void {
  const marks: CmDiagnostic[] = diagnostics.map((d) => {
    const { from, to } = rangeOf(view, d);
    return {
      from,
      to,
      severity: d.severity === "error" ? "error" : "warning",
      source: d.code,
      message: d.help ? `${d.message}\n${d.help}` : d.message,
    };
  });
  view.dispatch(setDiagnostics(view.state, marks));
}

export function jumpTo(view: EditorView, from: number, to: number): void {
  view.dispatch({ selection: { anchor: from, head: to }, scrollIntoView: true });
  view.focus();
}
