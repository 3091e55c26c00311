// Blocks shared by the portfolio and a customer's insights: headline
// figures, workloads (chart with causes + table), products (table +
// deployment chart), excluded products, trend.
import type { Deployment, ExcludedProduct, HistoryPoint, Product, Usage, Workload } from "./api";
import { ChartCanvas, hundredLine, palette } from "./charts";
import { Card, How, Num, Pct, Section, useApp } from "./ui";

const causes = ["formerLicensee", "unlicensed", "trial", "inactiveSubscription"] as const;

export function Headlines({ prefix, deployment, usage, inactive, extra }: { prefix: string; deployment: Deployment; usage: Usage; inactive: number; extra?: preact.ComponentChildren }) {
  const { i } = useApp();
  return (
    <div class="cards">
      <Card label={i.t("deployment")} def="def_deployment"><Pct v={deployment.percent} id={`${prefix}.deployment.percent`} /></Card>
      <Card label={i.t("usage")} def="def_usage"><Pct v={usage.percent} id={`${prefix}.usage.percent`} /></Card>
      <Card label={i.t("adjustedUsage")} def="def_adjusted"><Pct v={usage.adjustedPercent} id={`${prefix}.usage.adjustedPercent`} /></Card>
      <Card label={i.t("licensesSold")}><Num v={deployment.licensesSold} id={`${prefix}.deployment.licensesSold`} /></Card>
      <Card label={i.t("licensesAssigned")}><Num v={deployment.licensesAssigned} id={`${prefix}.deployment.licensesAssigned`} /></Card>
      <Card label={i.t("unassigned")} def="def_unassigned"><Num v={deployment.unassigned} id={`${prefix}.deployment.unassigned`} /></Card>
      <Card label={i.t("inactiveLicensedUsers")} def="def_inactive"><Num v={inactive} id={`${prefix}.inactiveLicensedUsers`} /></Card>
      {extra}
    </div>
  );
}

// Each bar: counted active users (adjusted usage %) at the bottom, then the
// uncounted active users by cause, each as a share of the entitlements.
// The stack's top is the usage %, so a bar above 100 % shows its causes.
export function Workloads({ prefix, workloads }: { prefix: string; workloads: Workload[] }) {
  const { i } = useApp();
  const share = (n: number, w: Workload) => (w.entitlements > 0 ? (100 * n) / w.entitlements : 0);
  const labels = workloads.map((w) => i.workload(w.workload));
  const datasets = [
    { label: i.t("countedActive"), data: workloads.map((w) => share(w.countedActiveEntitlements, w)), backgroundColor: palette[0], stack: "u" },
    ...causes.map((c, n) => ({ label: i.t(`cause_${c}`), data: workloads.map((w) => share(w.uncountedActive[c], w)), backgroundColor: palette[n + 1], stack: "u" })),
  ];
  return (
    <Section title={i.t("workloads")} id={`${prefix}-workloads`}>
      <How def="def_workloads" />
      <ChartCanvas
        label={i.t("workloads") + ": " + workloads.map((w) => `${i.workload(w.workload)} ${i.pct(w.usagePercent)}`).join(", ")}
        config={{
          type: "bar",
          data: { labels, datasets },
          options: {
            scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, suggestedMax: 110, ticks: { callback: (v) => i.pct(Number(v)) } } },
            plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${i.pct(c.parsed.y)}` } } },
          },
          plugins: [hundredLine],
        }}
      />
      <div class="table-wrap">
        <table data-testid={`${prefix}-workloads`}>
          <caption class="sr-only">{i.t("workloads")}</caption>
          <thead>
            <tr>
              <th scope="col">{i.t("workload")}</th>
              <th scope="col">{i.t("entitlements")}</th>
              <th scope="col">{i.t("activeEntitlements")}</th>
              <th scope="col">{i.t("usage")}</th>
              <th scope="col">{i.t("adjustedUsage")}</th>
              {causes.map((c) => <th scope="col" key={c}>{i.t(`cause_${c}`)}</th>)}
            </tr>
          </thead>
          <tbody>
            {workloads.map((w) => (
              <tr key={w.workload} data-workload={w.workload}>
                <th scope="row">{i.workload(w.workload)}</th>
                <td><Num v={w.entitlements} id={`${prefix}.workloads.${w.workload}.entitlements`} /></td>
                <td><Num v={w.activeEntitlements} id={`${prefix}.workloads.${w.workload}.activeEntitlements`} /></td>
                <td><Pct v={w.usagePercent} id={`${prefix}.workloads.${w.workload}.usagePercent`} /></td>
                <td><Pct v={w.adjustedUsagePercent} id={`${prefix}.workloads.${w.workload}.adjustedUsagePercent`} /></td>
                {causes.map((c) => <td key={c}><Num v={w.uncountedActive[c]} id={`${prefix}.workloads.${w.workload}.uncountedActive.${c}`} /></td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <How def="def_causes" />
    </Section>
  );
}

export function Products({ prefix, products }: { prefix: string; products: Product[] }) {
  const { i } = useApp();
  const shown = products.filter((p) => p.licensesSold > 0 || p.licensesAssigned > 0);
  return (
    <Section title={i.t("products")} id={`${prefix}-products`}>
      <ChartCanvas
        label={i.t("deploymentPerProduct")}
        height={Math.max(160, 28 * shown.length + 60)}
        config={{
          type: "bar",
          data: { labels: shown.map((p) => p.name), datasets: [{ label: i.t("deployment"), data: shown.map((p) => p.deploymentPercent ?? 0), backgroundColor: palette[0], maxBarThickness: 28 }] },
          options: { indexAxis: "y", scales: { x: { beginAtZero: true, suggestedMax: 100, ticks: { callback: (v) => i.pct(Number(v)) } } }, plugins: { legend: { display: false } } },
        }}
      />
      <div class="table-wrap">
        <table data-testid={`${prefix}-products`}>
          <caption class="sr-only">{i.t("products")}</caption>
          <thead>
            <tr>
              <th scope="col">{i.t("product")}</th>
              <th scope="col">{i.t("licensesSold")}</th>
              <th scope="col">{i.t("soldByChannel")}</th>
              <th scope="col">{i.t("licensesAssigned")}</th>
              <th scope="col">{i.t("deployment")}</th>
              <th scope="col">{i.t("unassigned")}</th>
              <th scope="col">{i.t("renewals")}</th>
            </tr>
          </thead>
          <tbody>
            {products.map((p) => (
              <tr key={p.sku} data-sku={p.sku}>
                <th scope="row">{p.name}<div class="sku">{p.sku}{p.unknownProduct && <> · <span class="badge">{i.t("unknownProduct")}</span></>}</div></th>
                <td><Num v={p.licensesSold} id={`${prefix}.products.${p.sku}.licensesSold`} /></td>
                <td class="channels">
                  {(["own", "partner", "direct", "unknown"] as const).filter((c) => p.soldByChannel[c] > 0).map((c) => <span key={c}>{i.t(`ch_${c}`)} {i.num(p.soldByChannel[c])}</span>)}
                </td>
                <td><Num v={p.licensesAssigned} id={`${prefix}.products.${p.sku}.licensesAssigned`} /></td>
                <td><Pct v={p.deploymentPercent} id={`${prefix}.products.${p.sku}.deploymentPercent`} /></td>
                <td><Num v={p.unassigned} id={`${prefix}.products.${p.sku}.unassigned`} /></td>
                <td>{(p.renewals ?? []).map((r) => <div key={r.subscriptionId + r.date}>{i.date(r.date)} · {i.num(r.quantity)}{r.kind ? ` · ${r.kind}` : ""}</div>)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <How def="def_deployment" />
    </Section>
  );
}

export function Excluded({ items }: { items?: ExcludedProduct[] }) {
  const { i } = useApp();
  if (!items || items.length === 0) return null;
  return (
    <Section title={i.t("excludedProducts")} id="excluded">
      <p>{i.t("excludedWhy")}</p>
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">{i.t("product")}</th><th scope="col">{i.t("quantity")}</th><th scope="col">{i.t("licensesAssigned")}</th><th scope="col">{i.t("reason")}</th></tr></thead>
          <tbody>{items.map((p) => <tr key={p.sku}><th scope="row">{p.name}<div class="sku">{p.sku}</div></th><td>{i.num(p.quantity)}</td><td>{i.num(p.assigned)}</td><td>{p.reason}</td></tr>)}</tbody>
        </table>
      </div>
    </Section>
  );
}

export function Trend({ title, points }: { title: string; points: HistoryPoint[] }) {
  const { i } = useApp();
  if (points.length === 0) return <Section title={title}><p>{i.t("empty")}</p></Section>;
  return (
    <Section title={title} id="trend">
      <How def="def_trend" />
      <ChartCanvas
        label={title}
        config={{
          type: "line",
          data: {
            labels: points.map((p) => i.date(p.date)),
            datasets: [
              { label: i.t("usage"), data: points.map((p) => p.usagePercent), borderColor: palette[0], backgroundColor: palette[0] },
              { label: i.t("adjustedUsage"), data: points.map((p) => p.adjustedUsagePercent), borderColor: palette[2], backgroundColor: palette[2] },
              { label: i.t("deployment"), data: points.map((p) => p.deploymentPercent), borderColor: palette[1], backgroundColor: palette[1] },
            ],
          },
          options: { scales: { y: { beginAtZero: true, ticks: { callback: (v) => i.pct(Number(v)) } } } },
        }}
      />
      <details class="data">
        <summary>{i.t("chartTable")}</summary>
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">{i.t("date")}</th><th scope="col">{i.t("usage")}</th><th scope="col">{i.t("adjustedUsage")}</th><th scope="col">{i.t("deployment")}</th></tr></thead>
            <tbody>{points.map((p) => <tr key={p.date}><th scope="row">{i.date(p.date)}</th><td>{i.pct(p.usagePercent)}</td><td>{i.pct(p.adjustedUsagePercent)}</td><td>{i.pct(p.deploymentPercent)}</td></tr>)}</tbody>
          </table>
        </div>
      </details>
    </Section>
  );
}
