import { useState } from "preact/hooks";
import { ApiError, IngestOutcome, request } from "../api";
import { ErrorBox, ProblemTable, useApp } from "../ui";

const kinds = ["snapshot", "graph-subscribed-skus", "graph-active-user-detail", "graph-directory-subscriptions", "partner-center-subscriptions"];
const MAX = 5 * 1024 * 1024;

// What the API's detection will say, guessed from the first bytes so the
// person sees it before sending (pkg/source.Detect decides).
export function guessKind(head: string): string {
  const s = head.replace(/^\uFEFF/, "").trimStart();
  if (s.startsWith("{") || s.startsWith("[")) {
    if (/"schema"\s*:\s*"license-snapshot\/v1"/.test(s)) return "snapshot";
    if (/"(totalLicenses|ownerTenantId|commerceSubscriptionId)"/.test(s)) return "graph-directory-subscriptions";
    if (/"skuPartNumber"/.test(s) && /"(prepaidUnits|consumedUnits)"/.test(s)) return "graph-subscribed-skus";
    if (/"(offerId|offerName)"/.test(s)) return "partner-center-subscriptions";
    return "";
  }
  return /^"?report refresh date/i.test(s) ? "graph-active-user-detail" : "";
}

// Drop a document (or choose it): it is posted to the customer's reports
// and the answer shown — accepted with its counts, or refused with every
// problem at its line and column.
export function Uploads({ query }: { query: URLSearchParams }) {
  const { i } = useApp();
  const [customerId, setCustomerId] = useState(query.get("customerId") ?? "");
  const [kind, setKind] = useState("");
  const [skip, setSkip] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const [guess, setGuess] = useState("");
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<IngestOutcome | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [hint, setHint] = useState("");
  const [over, setOver] = useState(false);

  const pick = async (f: File | null | undefined) => {
    setOutcome(null); setError(null); setHint("");
    setFile(f ?? null);
    setGuess(f ? guessKind(await f.slice(0, 4096).text()) : "");
  };

  const send = async (e: Event) => {
    e.preventDefault();
    setOutcome(null); setError(null); setHint("");
    if (!customerId.trim()) return setHint(i.t("needCustomer"));
    if (!file) return setHint(i.t("needFile"));
    if (file.size > MAX) return setHint(i.t("tooBig"));
    setBusy(true);
    try {
      const p = new URLSearchParams();
      if (kind) p.set("kind", kind);
      if (skip) p.set("skipInvalid", "true");
      const text = await file.text();
      const type = text.trimStart().startsWith("{") || text.trimStart().startsWith("[") ? "application/json" : "text/csv";
      setOutcome(await request<IngestOutcome>("POST", `/v1/customers/${encodeURIComponent(customerId.trim())}/reports?${p}`, text, type));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h1>{i.t("uploadsTitle")}</h1>
      <form class="stack" onSubmit={send}>
        <label>{i.t("customerId")}{" "}
          <input name="customerId" required value={customerId} onInput={(e) => setCustomerId((e.target as HTMLInputElement).value)} />
        </label>
        <label>{i.t("kind")}{" "}
          <select name="kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
            <option value="">{i.t("kindAuto")}</option>
            {kinds.map((k) => <option key={k} value={k}>{k}</option>)}
          </select>
        </label>
        <div
          class={"drop" + (over ? " over" : "")}
          onDragOver={(e) => { e.preventDefault(); setOver(true); }}
          onDragLeave={() => setOver(false)}
          onDrop={(e) => { e.preventDefault(); setOver(false); pick(e.dataTransfer?.files?.[0]); }}
        >
          <label>{i.t("dropHere")}<br />
            <input type="file" name="file" accept=".csv,.json,text/csv,application/json" onChange={(e) => pick((e.target as HTMLInputElement).files?.[0])} />
          </label>
          {file && <p>{file.name} · {i.bytes(file.size)}{guess && <> · {i.t("detected")}: <strong data-testid="guessed-kind">{guess}</strong></>}</p>}
        </div>
        <label class="check"><input type="checkbox" name="skipInvalid" checked={skip} onChange={(e) => setSkip((e.target as HTMLInputElement).checked)} /> {i.t("skipInvalid")}</label>
        <button type="submit" disabled={busy}>{i.t("send")}</button>
      </form>
      {hint && <p class="error" role="alert">{hint}</p>}
      <div aria-live="polite">
        {outcome && (
          <div class="outcome ok" data-testid="upload-outcome" data-status={outcome.status}>
            <p><strong>{outcome.status === "accepted" ? i.t("accepted") : i.t("unchanged")}</strong> · {i.t("detected")}: <strong>{outcome.kind}</strong>
              {outcome.reportDate && <> · {i.t("reportDate")}: {i.date(outcome.reportDate)}</>}</p>
            <p>{i.t("rows")}: {i.num(outcome.rows)} · {i.t("users")}: {i.num(outcome.users)} · {i.t("subscriptions")}: {i.num(outcome.subscriptions)}</p>
            {outcome.skipped && <ProblemTable problems={outcome.skipped} />}
            <p><a href={`#/customers/${encodeURIComponent(customerId.trim())}`}>{customerId}</a></p>
          </div>
        )}
        {error && (
          <div class="outcome" data-testid="upload-refused">
            <p><strong>{i.t("refused")}</strong>{error instanceof ApiError ? ` (${error.status})` : ""}</p>
            <ErrorBox error={error} />
          </div>
        )}
      </div>
    </>
  );
}
