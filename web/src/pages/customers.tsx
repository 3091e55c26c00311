import { useEffect, useState } from "preact/hooks";
import { get, Headline, Page } from "../api";
import { ErrorBox, Loading, Pct, useApp } from "../ui";

const sorts = ["name", "-name", "usage", "-usage", "deployment", "-deployment"] as const;
const bands = ["", "low", "medium", "high", "unknown"] as const;
const PAGE = 20;

export interface CustomersQuery { sort: string; band: string; q: string; cursor: string; pages: string[] }

// The list as the API pages it. A name search has no API parameter: the
// page then walks the whole name-ordered list (500 a page) and filters it
// here, which stays quick for the few thousand customers a partner has.
export function Customers({ query }: { query: URLSearchParams }) {
  const { i } = useApp();
  const sort = query.get("sort") ?? "name";
  const band = query.get("band") ?? "";
  const q = query.get("q") ?? "";
  const cursor = query.get("cursor") ?? "";
  const back = query.getAll("back");
  const [state, setState] = useState<{ items?: Headline[]; next?: string | null; error?: Error; loading: boolean }>({ loading: true });
  const [text, setText] = useState(q);

  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    const params = new URLSearchParams({ sort, limit: String(PAGE) });
    if (band) params.set("band", band);
    (async () => {
      if (q) {
        const all: Headline[] = [];
        let c: string | null = "";
        do {
          const p = new URLSearchParams({ sort, limit: "500" });
          if (band) p.set("band", band);
          if (c) p.set("cursor", c);
          const page: Page<Headline> = await get(`/v1/customers?${p}`);
          all.push(...page.items);
          c = page.nextCursor;
        } while (c);
        const needle = q.toLocaleLowerCase();
        return { items: all.filter((h) => h.customerName.toLocaleLowerCase().includes(needle) || h.customerId.toLocaleLowerCase().includes(needle)), next: null };
      }
      if (cursor) params.set("cursor", cursor);
      const page = await get<Page<Headline>>(`/v1/customers?${params}`);
      return { items: page.items, next: page.nextCursor };
    })().then((r) => live && setState({ ...r, loading: false }), (error) => live && setState({ error, loading: false }));
    return () => { live = false; };
  }, [sort, band, q, cursor]);

  const link = (over: Record<string, string | string[]>) => {
    const p = new URLSearchParams();
    const v = { sort, band, q, ...over } as Record<string, string | string[]>;
    for (const [k, val] of Object.entries(v)) {
      if (Array.isArray(val)) val.forEach((x) => p.append(k, x));
      else if (val) p.set(k, val);
    }
    return "#/customers?" + p.toString();
  };

  return (
    <>
      <h1>{i.t("navCustomers")}</h1>
      <form class="filters" role="search" onSubmit={(e) => { e.preventDefault(); location.hash = link({ q: text }); }}>
        <label>{i.t("search")} <input type="search" name="q" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} /></label>
        <label>{i.t("sortBy")}{" "}
          <select name="sort" value={sort} onChange={(e) => { location.hash = link({ sort: (e.target as HTMLSelectElement).value }); }}>
            {sorts.map((s) => <option key={s} value={s}>{i.t(`sort_${s}`)}</option>)}
          </select>
        </label>
        <label>{i.t("band")}{" "}
          <select name="band" value={band} onChange={(e) => { location.hash = link({ band: (e.target as HTMLSelectElement).value }); }}>
            {bands.map((b) => <option key={b} value={b}>{b ? i.t(`band_${b}`) : i.t("allBands")}</option>)}
          </select>
        </label>
        <button type="submit">{i.t("search")}</button>
      </form>
      {state.loading && <Loading />}
      {state.error && <ErrorBox error={state.error} />}
      {state.items && !state.loading && (state.items.length === 0 ? <p>{i.t("noMatch")}</p> : (
        <div class="table-wrap">
          <table data-testid="customers">
            <caption class="sr-only">{i.t("navCustomers")}</caption>
            <thead><tr>
              <th scope="col">{i.t("customer")}</th><th scope="col">{i.t("band")}</th><th scope="col">{i.t("usage")}</th>
              <th scope="col">{i.t("deployment")}</th><th scope="col">{i.t("licensesSold")}</th><th scope="col">{i.t("licensesAssigned")}</th>
              <th scope="col">{i.t("reportDate")}</th>
            </tr></thead>
            <tbody>
              {state.items.map((c) => (
                <tr key={c.customerId} data-customer={c.customerId}>
                  <th scope="row"><a href={`#/customers/${encodeURIComponent(c.customerId)}`}>{c.customerName}</a></th>
                  <td><span class={`band band-${c.band}`}>{i.t(`band_${c.band ?? "unknown"}` as any)}</span></td>
                  <td><Pct v={c.usagePercent} id="usagePercent" /></td>
                  <td><Pct v={c.deploymentPercent} id="deploymentPercent" /></td>
                  <td>{i.num(c.licensesSold)}</td>
                  <td>{i.num(c.licensesAssigned)}</td>
                  <td>{i.date(c.reportDate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
      {!q && (
        <nav class="pager" aria-label={i.t("navCustomers")}>
          {back.length > 0 && <a href={link({ cursor: back[back.length - 1] === "-" ? "" : back[back.length - 1], back: back.slice(0, -1) })}>{i.t("previous")}</a>}
          <span>{i.t("page", { n: back.length + 1 })}</span>
          {state.next && <a href={link({ cursor: state.next, back: [...back, cursor || "-"] })}>{i.t("next")}</a>}
        </nav>
      )}
    </>
  );
}
