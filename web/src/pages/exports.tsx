import { useEffect, useState } from "preact/hooks";
import { ApiError, ExportJob, Page, request } from "../api";
import { ErrorBox, Loading, Section, useApi, useApp } from "../ui";

const datasets = ["users", "customers", "subscriptions"] as const;

// Request an export, follow it until it succeeded or failed, download it.
export function Exports({ query }: { query: URLSearchParams }) {
  const { i } = useApp();
  const [dataset, setDataset] = useState("users");
  const [customerId, setCustomerId] = useState(query.get("customerId") ?? "");
  const [gzip, setGzip] = useState(false);
  const [job, setJob] = useState<ExportJob | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const list = useApi<Page<ExportJob>>("/v1/exports?limit=10");

  useEffect(() => {
    if (!job || job.status === "succeeded" || job.status === "failed") return;
    const t = setTimeout(async () => {
      try {
        setJob(await request<ExportJob>("GET", `/v1/exports/${encodeURIComponent(job.exportId)}`));
      } catch (e) { setError(e as Error); }
    }, 700);
    return () => clearTimeout(t);
  }, [job]);
  useEffect(() => { if (job?.status === "succeeded" || job?.status === "failed") list.reload(); }, [job?.status]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const body: Record<string, unknown> = { dataset, format: "csv" };
      if (customerId.trim()) body.customerId = customerId.trim();
      if (gzip) body.gzip = true;
      setJob(await request<ExportJob>("POST", "/v1/exports", body));
    } catch (err) { setError(err as Error); }
  };

  return (
    <>
      <h1>{i.t("exportsTitle")}</h1>
      <form class="stack" onSubmit={submit}>
        <label>{i.t("dataset")}{" "}
          <select name="dataset" value={dataset} onChange={(e) => setDataset((e.target as HTMLSelectElement).value)}>
            {datasets.map((d) => <option key={d} value={d}>{i.t(`ds_${d}`)}</option>)}
          </select>
        </label>
        <label>{i.t("customerIdOptional")}{" "}
          <input name="customerId" value={customerId} onInput={(e) => setCustomerId((e.target as HTMLInputElement).value)} />
        </label>
        <label class="check"><input type="checkbox" name="gzip" checked={gzip} onChange={(e) => setGzip((e.target as HTMLInputElement).checked)} /> {i.t("gzip")}</label>
        <button type="submit">{i.t("requestExport")}</button>
      </form>
      {error && <ErrorBox error={error} />}
      {job && <JobView job={job} onChange={setJob} />}
      <Section title={i.t("recentExports")} id="recent">
        {list.loading && !list.data && <Loading />}
        {list.error && !(list.error instanceof ApiError && list.error.status === 403) && <ErrorBox error={list.error} retry={list.reload} />}
        {list.data && (list.data.items.length === 0 ? <p>{i.t("empty")}</p> : (
          <div class="table-wrap">
            <table data-testid="exports">
              <thead><tr><th scope="col">{i.t("created")}</th><th scope="col">{i.t("dataset")}</th><th scope="col">{i.t("customer")}</th><th scope="col">{i.t("status")}</th><th scope="col">{i.t("rows")}</th><th scope="col">{i.t("size")}</th></tr></thead>
              <tbody>{list.data.items.map((x) => (
                <tr key={x.exportId}><td>{i.dateTime(x.createdAt)}</td><td>{x.dataset}</td><td>{x.customerId ?? "—"}</td><td>{i.t(`st_${x.status}` as any)}</td><td>{i.num(x.rows)}</td><td>{i.bytes(x.bytes)}</td></tr>
              ))}</tbody>
            </table>
          </div>
        ))}
      </Section>
    </>
  );
}

function JobView({ job, onChange }: { job: ExportJob; onChange: (j: ExportJob) => void }) {
  const { i } = useApp();
  const [error, setError] = useState<Error | null>(null);
  const renew = async () => {
    try { onChange(await request<ExportJob>("POST", `/v1/exports/${encodeURIComponent(job.exportId)}/link`)); } catch (e) { setError(e as Error); }
  };
  const done = job.status === "succeeded" || job.status === "failed";
  return (
    <div class="job" data-testid="export-job" data-status={job.status} aria-live="polite">
      <p><strong>{i.t("status")}:</strong> <span data-testid="export-status">{i.t(`st_${job.status}` as any)}</span>
        {!done && <progress aria-label={i.t("status")} />}</p>
      {job.rows !== undefined && job.rows !== null && <p>{i.t("rows")}: {i.num(job.rows)} · {i.t("size")}: {i.bytes(job.bytes)}</p>}
      {job.status === "failed" && job.reason && <p class="error" role="alert">{job.reason}</p>}
      {job.status === "succeeded" && job.downloadUrl && (
        <p>
          <a class="button" data-testid="export-download" href={job.downloadUrl} download rel="noopener">{i.t("download")}</a>{" "}
          {job.expiresAt && <small>{i.t("linkExpires", { t: i.dateTime(job.expiresAt) })}</small>}{" "}
          <button type="button" onClick={renew}>{i.t("newLink")}</button>
        </p>
      )}
      {error && <ErrorBox error={error} />}
    </div>
  );
}
