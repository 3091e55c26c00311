import type { HistoryPoint, Page, Portfolio as P, Headline } from "../api";
import { ChartCanvas, palette } from "../charts";
import { Excluded, Headlines, Products, Trend, Workloads } from "../figures";
import { Card, ErrorBox, How, Loading, Num, Pct, Section, useApi, useApp } from "../ui";
import { WindowPicker } from "./window";

const bandKeys = ["low", "medium", "high", "unknown"] as const;

export function Portfolio({ window }: { window: number }) {
  const { i } = useApp();
  const { data, error, loading, reload } = useApi<P>(`/v1/portfolio?window=${window}`);
  const hist = useApi<Page<HistoryPoint>>(`/v1/portfolio/history?limit=500`);
  return (
    <>
      <div class="page-head">
        <h1>{i.t("navPortfolio")}</h1>
        <WindowPicker value={window} base="#/portfolio" />
      </div>
      {loading && !data && <Loading />}
      {error && <ErrorBox error={error} retry={reload} />}
      {data && (
        <>
          <p class="note">{i.t("def_portfolio")}</p>
          <Headlines prefix="portfolio" deployment={data.deployment} usage={data.usage} inactive={data.inactiveLicensedUsers}
            extra={<Card label={i.t("customers")}><Num v={data.customers} id="portfolio.customers" /></Card>} />
          <Section title={i.t("bands")} id="bands">
            <How def="def_bands" />
            <div class="split">
              <ChartCanvas
                label={i.t("bands") + ": " + bandKeys.map((b) => `${i.t(`band_${b}`)} ${data.bands[b]}`).join(", ")}
                height={220}
                config={{ type: "doughnut", data: { labels: bandKeys.map((b) => i.t(`band_${b}`)), datasets: [{ data: bandKeys.map((b) => data.bands[b]), backgroundColor: [palette[1], palette[4], palette[2], palette[6]] }] } }}
              />
              <table data-testid="bands">
                <thead><tr><th scope="col">{i.t("band")}</th><th scope="col">{i.t("customers")}</th></tr></thead>
                <tbody>{bandKeys.map((b) => <tr key={b}><th scope="row"><a href={`#/customers?band=${b}`}>{i.t(`band_${b}`)}</a></th><td><Num v={data.bands[b]} id={`portfolio.bands.${b}`} /></td></tr>)}</tbody>
              </table>
            </div>
          </Section>
          <Workloads prefix="portfolio" workloads={data.workloads} />
          <Products prefix="portfolio" products={data.products} />
          <Excluded items={data.excludedProducts} />
          <div class="ranked">
            <Ranked title={i.t("lowestUsage")} items={data.lowestUsage} id="lowestUsage" />
            <Ranked title={i.t("mostUnassigned")} items={data.mostUnassigned} id="mostUnassigned" />
            <Ranked title={i.t("upsellCandidates")} items={data.upsellCandidates} id="upsellCandidates" />
          </div>
        </>
      )}
      {hist.error && <ErrorBox error={hist.error} retry={hist.reload} />}
      {hist.data && <Trend title={i.t("portfolioTrend")} points={hist.data.items} />}
    </>
  );
}

function Ranked({ title, items, id }: { title: string; items: Headline[]; id: string }) {
  const { i } = useApp();
  return (
    <Section title={title} id={id}>
      {items.length === 0 ? <p>{i.t("empty")}</p> : (
        <table data-testid={id}>
          <thead><tr><th scope="col">{i.t("customer")}</th><th scope="col">{i.t("usage")}</th><th scope="col">{i.t("deployment")}</th><th scope="col">{i.t("unassigned")}</th></tr></thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.customerId}>
                <th scope="row"><a href={`#/customers/${encodeURIComponent(c.customerId)}`}>{c.customerName}</a></th>
                <td><Pct v={c.usagePercent} /></td>
                <td><Pct v={c.deploymentPercent} /></td>
                <td>{i.num(c.unassigned ?? Math.max(0, c.licensesSold - c.licensesAssigned))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
