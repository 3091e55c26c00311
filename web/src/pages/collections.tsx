import { useState } from "preact/hooks";
import { ApiError, request } from "../api";
import { ErrorBox, Loading, useApi, useApp } from "../ui";

interface Run { collectionId: string; status: string; startedAt?: string; finishedAt?: string; counts?: Record<string, number>; [k: string]: unknown }

// The collection routes come with the connector (SPEC §8). Until an
// installation has them, the API answers 404 and the page says collection
// is not configured instead of showing an error.
export function Collections() {
  const { i, role } = useApp();
  const { data, error, loading, reload } = useApi<{ items: Run[]; nextCursor: string | null }>("/v1/collections?limit=20");
  const [runError, setRunError] = useState<Error | null>(null);
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
          {role === "writer" && <p><button type="button" onClick={run}>{i.t("runNow")}</button></p>}
          {runError && <ErrorBox error={runError} />}
          {data.items.length === 0 ? <p>{i.t("noCollections")}</p> : (
            <div class="table-wrap">
              <table data-testid="collections">
                <thead><tr><th scope="col">{i.t("started")}</th><th scope="col">{i.t("finished")}</th><th scope="col">{i.t("status")}</th><th scope="col">{i.t("outcomes")}</th></tr></thead>
                <tbody>{data.items.map((r) => (
                  <tr key={r.collectionId}><td>{i.dateTime(r.startedAt)}</td><td>{i.dateTime(r.finishedAt)}</td><td>{r.status}</td>
                    <td>{Object.entries(r.counts ?? {}).map(([k, v]) => `${k} ${i.num(v)}`).join(" · ")}</td></tr>
                ))}</tbody>
              </table>
            </div>
          )}
        </>
      )}
    </>
  );
}
