import { createContext, ComponentChildren } from "preact";
import { useContext, useEffect, useState, useCallback } from "preact/hooks";
import { ApiError, get } from "./api";
import type { I18n, Key } from "./i18n";
import type { Role } from "./auth";

export interface Ctx { i: I18n; role: Role }
export const AppCtx = createContext<Ctx>(null as unknown as Ctx);
export const useApp = () => useContext(AppCtx);

// useApi loads path (again when it changes) and keeps loading / error /
// data apart, so that every page has the same three states.
export function useApi<T>(path: string | null) {
  const [state, setState] = useState<{ data?: T; error?: ApiError | Error; loading: boolean }>({ loading: !!path });
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!path) { setState({ loading: false }); return; }
    let live = true;
    setState((s) => ({ data: s.data, loading: true }));
    get<T>(path).then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => { live = false; };
  }, [path, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { ...state, reload };
}

export function Loading() {
  const { i } = useApp();
  return <p class="loading" role="status">{i.t("loading")}</p>;
}

export function ErrorBox({ error, retry }: { error: Error; retry?: () => void }) {
  const { i } = useApp();
  const details = error instanceof ApiError ? error.details : [];
  return (
    <div class="error" role="alert">
      <strong>{i.t("errorTitle")}</strong>
      <p>{error.message}</p>
      {details.length > 0 && <ProblemTable problems={details} />}
      {retry && <button type="button" onClick={retry}>{i.t("retry")}</button>}
    </div>
  );
}

export function ProblemTable({ problems }: { problems: { line?: number; column?: string; field?: string; reason?: string; value?: string }[] }) {
  const { i } = useApp();
  return (
    <table class="problems" data-testid="problems">
      <caption>{i.t("problems")}</caption>
      <thead><tr><th scope="col">{i.t("line")}</th><th scope="col">{i.t("column")}</th><th scope="col">{i.t("reason")}</th></tr></thead>
      <tbody>
        {problems.map((p, n) => (
          <tr key={n}><td data-line={p.line ?? ""}>{p.line ?? "—"}</td><td>{p.column ?? p.field ?? "—"}</td><td>{p.reason ?? ""}</td></tr>
        ))}
      </tbody>
    </table>
  );
}

// How is a figure's definition, one click (or Enter) away, next to it.
export function How({ def }: { def: Key }) {
  const { i } = useApp();
  return (
    <details class="how">
      <summary>{i.t("how")}</summary>
      <p>{i.t(def)}</p>
    </details>
  );
}

// Pct shows a percentage for the language; data-value keeps the API's
// number so the browser tests can compare it with the API's answer.
export function Pct({ v, id }: { v: number | null | undefined; id?: string }) {
  const { i } = useApp();
  if (v === null || v === undefined) return <span data-figure={id} data-value="null" title={i.t("noFigureWhy")}>—<span class="sr-only"> {i.t("noFigure")}</span></span>;
  return <span data-figure={id} data-value={String(v)} class={v > 100 ? "over" : undefined}>{i.pct(v)}</span>;
}

export function Num({ v, id }: { v: number | null | undefined; id?: string }) {
  const { i } = useApp();
  return <span data-figure={id} data-value={v === null || v === undefined ? "null" : String(v)}>{i.num(v)}</span>;
}

export function Card({ label, children, def }: { label: string; children: ComponentChildren; def?: Key }) {
  return (
    <div class="card">
      <div class="card-label">{label}</div>
      <div class="card-value">{children}</div>
      {def && <How def={def} />}
    </div>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section aria-labelledby={id ? id + "-h" : undefined}>
      <h2 id={id ? id + "-h" : undefined}>{title}</h2>
      {children}
    </section>
  );
}

export const go = (hash: string) => { location.hash = hash; };
