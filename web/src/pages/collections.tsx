import { useState } from "preact/hooks";
import { ApiError, request } from "../api";
import { ErrorBox, Loading, ProblemTable, useApi, useApp } from "../ui";

// The shapes of openapi.yaml's Collection and CollectionOutcome.
interface Run { collectionId: string; trigger: string; status: string; reason: string | null; startedAt: string; finishedAt: string | null; counts: Record<string, number> }
interface Outcome { customerId: string; name: string | null; state: string; code: string | null; message: string | null; problems: { line?: number; column?: string; reason?: string }[] }

// The collection routes come with the connector (README, "Connecting to
// Microsoft"). An installation without them the API answers 404 and the page says collection
// is not configured instead of showing an error.
export function Collections() {
  const { i, role } = useApp();
  const { data, error, loading, reload } = useApi<{ items: Run[]; nextCursor: string | null }>("/v1/collections?limit=20");
  const [runError, setRunError] = useState<Error | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const notConfigured = error instanceof ApiError && (error.status === 404 || error.status === 501);
  const run = async () => {
    setRunError(null);
    try { await request("POST", "/v1/collections", {}); reload(); } catch (e) { setRunError(e as Error); }
  };
  return (
    <>
      <h1>{i.t("collectionsTitle")}</h1>
      {loading && !data && <Loading />}
      {notConfigured && <p class="note" data-testid="collections-not-configured">{i.t("notConfigured")}</p>}
      {error && !notConfigured && <ErrorBox error={error} retry={reload} />}
      {data && (
        <>
          {role === "writer" && <p><button type="button" data-testid="run-now" onClick={run}>{i.t("runNow")}</button></p>}
          {runError && <ErrorBox error={runError} />}
          {data.items.length === 0 ? <p data-testid="collections-empty">{i.t("noCollections")}</p> : (
            <div class="table-wrap">
              <table data-testid="collections">
                <thead><tr><th scope="col">{i.t("started")}</th><th scope="col">{i.t("finished")}</th><th scope="col">{i.t("status")}</th><th scope="col">{i.t("outcomes")}</th></tr></thead>
                <tbody>{data.items.map((r) => (
                  <tr key={r.collectionId}>
                    <td>{i.dateTime(r.startedAt)}</td><td>{i.dateTime(r.finishedAt ?? undefined)}</td><td data-testid="run-status">{r.status}{r.reason ? ` · ${r.reason}` : ""}</td>
                    <td>
                      {Object.entries(r.counts ?? {}).map(([k, v]) => `${k} ${i.num(v)}`).join(" · ")}{" "}
                      <button type="button" aria-expanded={open === r.collectionId} onClick={() => setOpen(open === r.collectionId ? null : r.collectionId)}>{i.t("outcomes")}</button>
                    </td>
                  </tr>
                ))}</tbody>
              </table>
            </div>
          )}
          {open && <Outcomes id={open} />}
        </>
      )}
    </>
  );
}

function Outcomes({ id }: { id: string }) {
  const { i } = useApp();
  const { data, error, loading, reload } = useApi<{ customers: Outcome[] }>(`/v1/collections/${encodeURIComponent(id)}`);
  if (loading && !data) return <Loading />;
  if (error) return <ErrorBox error={error} retry={reload} />;
  const list = data?.customers ?? [];
  return (
    <section aria-label={i.t("outcomes")}>
      <h2>{i.t("outcomes")}</h2>
      {list.length === 0 ? <p>{i.t("empty")}</p> : (
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">{i.t("customer")}</th><th scope="col">{i.t("status")}</th><th scope="col">{i.t("reason")}</th></tr></thead>
            <tbody>{list.map((o, n) => (
              <tr key={n}>
                <th scope="row"><a href={`#/customers/${encodeURIComponent(o.customerId)}`}>{o.name ?? o.customerId}</a></th>
                <td>{o.state}{o.code ? ` · ${o.code}` : ""}</td>
                <td>{o.message ?? ""}{o.problems.length ? <ProblemTable problems={o.problems} /> : null}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </section>
  );
}
