import { Fragment } from "preact";
import { useState } from "preact/hooks";
import type { HistoryPoint, Insights as I, Page, Recommendation } from "../api";
import { Excluded, Headlines, Products, Trend, Workloads } from "../figures";
import { Card, ErrorBox, Loading, Section, useApi, useApp } from "../ui";
import { WindowPicker } from "./window";

export function Insights({ id, window }: { id: string; window: number }) {
  const { i, role } = useApp();
  const enc = encodeURIComponent(id);
  const { data, error, loading, reload } = useApi<I>(`/v1/customers/${enc}/insights?window=${window}`);
  const hist = useApi<Page<HistoryPoint>>(`/v1/customers/${enc}/history?limit=500`);
  return (
    <>
      <p><a href="#/customers">← {i.t("backToCustomers")}</a></p>
      <div class="page-head">
        <h1>{data?.customerName ?? id}</h1>
        <WindowPicker value={window} base={`#/customers/${enc}`} />
      </div>
      {loading && !data && <Loading />}
      {error && <ErrorBox error={error} retry={reload} />}
      {data && (
        <>
          <p class="meta">
            {i.t("reportDate")}: <span data-figure="insights.reportDate" data-value={data.reportDate}>{i.date(data.reportDate)}</span>
            {" · "}{i.t("band")}: <span class={`band band-${data.band}`}>{i.t(`band_${data.band}` as any)}</span>
            {data.customerTenantId && <> · <span class="sku">{data.customerTenantId}</span></>}
          </p>
          {role === "writer" && <p><a class="button" href={`#/exports?customerId=${enc}`}>{i.t("exportThisCustomer")}</a></p>}
          <Headlines prefix="insights" deployment={data.deployment} usage={data.usage} inactive={data.inactiveLicensedUsers}
            extra={<Card label={i.t("entitlements")} def="def_entitlements">{i.num(data.usage.entitlements)}</Card>} />
          <Recommendations items={data.recommendations} />
          <Workloads prefix="insights" workloads={data.workloads} />
          <Products prefix="insights" products={data.products} />
          <Excluded items={data.excludedProducts} />
          {data.dataFreshness && <Freshness f={data.dataFreshness} />}
        </>
      )}
      {hist.error && <ErrorBox error={hist.error} retry={hist.reload} />}
      {hist.data && <Trend title={i.t("customerTrend")} points={hist.data.items} />}
    </>
  );
}

function Recommendations({ items }: { items: Recommendation[] }) {
  const { i } = useApp();
  return (
    <Section title={i.t("recommendations")} id="recommendations">
      {items.length === 0 ? <p>{i.t("noRecommendations")}</p> : (
        <ul class="recs">{items.map((r, n) => <Rec key={n} r={r} />)}</ul>
      )}
    </Section>
  );
}

function Rec({ r }: { r: Recommendation }) {
  const { i } = useApp();
  const [copied, setCopied] = useState<"" | "ok" | "fail">("");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(r.message);
      setCopied("ok");
    } catch {
      setCopied("fail");
    }
  };
  return (
    <li class={`rec rec-${r.severity}`} data-code={r.code}>
      <div class="rec-head"><span class="badge">{r.severity}</span> <code>{r.code}</code></div>
      <p class="rec-msg">{r.message}</p>
      <button type="button" onClick={copy}>{i.t("copy")}</button>
      <span role="status" class="copied">{copied === "ok" ? i.t("copied") : copied === "fail" ? i.t("copyFailed") : ""}</span>
      <details>
        <summary>{i.t("evidence")}</summary>
        <dl class="evidence">
          {Object.entries(r.evidence).map(([k, v]) => (
            <Fragment key={k}><dt>{k}</dt><dd>{typeof v === "number" ? (/Percent$/.test(k) ? i.pct(v) : i.num(v)) : typeof v === "object" ? JSON.stringify(v) : String(v)}</dd></Fragment>
          ))}
        </dl>
      </details>
    </li>
  );
}

function Freshness({ f }: { f: Record<string, unknown> }) {
  const { i } = useApp();
  return (
    <Section title={i.t("dataFreshness")} id="freshness">
      <dl class="evidence">
        {Object.entries(f).map(([k, v]) => (
          <Fragment key={k}><dt>{k === "lastCollectedAt" ? i.t("lastCollected") : k === "namesConcealed" ? i.t("namesConcealed") : k}</dt>
            <dd>{typeof v === "string" && /^\d{4}-\d{2}-\d{2}/.test(v) ? (v.length > 10 ? i.dateTime(v) : i.date(v)) : typeof v === "object" ? JSON.stringify(v) : String(v)}</dd></Fragment>
        ))}
      </dl>
    </Section>
  );
}
