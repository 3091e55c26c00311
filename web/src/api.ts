// The one way the page talks to the API: same origin, bearer token, JSON.
// A 401 ends the session (the app goes back to sign-in); every other error
// keeps the API's {code, message, details} so the page can show them.

export interface ErrorDetail { field?: string; value?: string; reason?: string; position?: number; line?: number; column?: string }
export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string, public details: ErrorDetail[] = []) {
    super(message);
  }
}

type TokenSource = () => Promise<string | null>;
let tokenSource: TokenSource = async () => null;
let onUnauthorized: () => void = () => {};

export function configureApi(src: TokenSource, unauthorized: () => void) {
  tokenSource = src;
  onUnauthorized = unauthorized;
}

export async function request<T>(method: string, path: string, body?: BodyInit | object, contentType?: string): Promise<T> {
  const token = await tokenSource();
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    if (typeof body === "string" || body instanceof Blob || body instanceof ArrayBuffer) {
      payload = body as BodyInit;
      headers["Content-Type"] = contentType ?? "application/octet-stream";
    } else {
      payload = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
  }
  const res = await fetch(path, { method, headers, body: payload, cache: "no-store" });
  const text = await res.text();
  let json: any = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: kept as text below */ }
  if (!res.ok) {
    if (res.status === 401) onUnauthorized();
    const e = json?.error;
    throw new ApiError(res.status, e?.code ?? "http_" + res.status, e?.message ?? (text || res.statusText), e?.details ?? []);
  }
  return json as T;
}

export const get = <T>(path: string) => request<T>("GET", path);

// Shapes of the answers the pages read (openapi.yaml has them exactly).
// Fields another release may add are optional here and shown when present.
export type Pct = number | null;
export interface SoldByChannel { own: number; partner: number; direct: number; unknown: number }
export interface Deployment { licensesSold: number; licensesAssigned: number; percent: Pct; unassigned: number; soldByChannel: SoldByChannel }
export interface Renewal { subscriptionId: string; date: string; quantity: number; status?: string; kind?: string; daysLeft?: number }
export interface Product { sku: string; name: string; licensesSold: number; soldByChannel: SoldByChannel; licensesAssigned: number; deploymentPercent: Pct; unassigned: number; inDeploymentTotal?: boolean; renewals?: Renewal[]; unknownProduct?: boolean }
export interface ExcludedProduct { sku: string; name: string; quantity: number; assigned: number; reason: string }
export interface Usage { entitlements: number; activeEntitlements: number; countedActiveEntitlements: number; percent: Pct; adjustedPercent: Pct }
export interface Uncounted { formerLicensee: number; unlicensed: number; trial: number; inactiveSubscription: number }
export interface Workload { workload: string; entitlements: number; activeEntitlements: number; countedActiveEntitlements: number; usagePercent: Pct; adjustedUsagePercent: Pct; uncountedActive: Uncounted; retired?: boolean }
export interface Headline { customerId: string; customerName: string; reportDate?: string; usagePercent: Pct; deploymentPercent: Pct; licensesSold: number; licensesAssigned: number; unassigned?: number; entitlements?: number; activeEntitlements?: number; band?: string }
export interface Bands { low: number; medium: number; high: number; unknown: number }
export interface Portfolio { windowDays: number; customers: number; bands: Bands; deployment: Deployment; products: Product[]; usage: Usage; workloads: Workload[]; inactiveLicensedUsers: number; lowestUsage: Headline[]; mostUnassigned: Headline[]; upsellCandidates: Headline[]; excludedProducts?: ExcludedProduct[] }
export interface Recommendation { code: string; severity: string; message: string; evidence: Record<string, unknown> }
export interface Insights { customerId: string; customerName: string; customerTenantId?: string; reportDate: string; windowDays: number; band: string; deployment: Deployment; products: Product[]; usage: Usage; workloads: Workload[]; inactiveLicensedUsers: number; recommendations: Recommendation[]; excludedProducts?: ExcludedProduct[]; dataFreshness?: Record<string, unknown> }
export interface Page<T> { items: T[]; nextCursor: string | null }
export interface HistoryPoint { date: string; deploymentPercent: Pct; usagePercent: Pct; adjustedUsagePercent: Pct; licensesSold: number; licensesAssigned: number }
export interface ExportJob { exportId: string; status: string; dataset?: string; customerId?: string | null; rows?: number | null; bytes?: number | null; downloadUrl?: string | null; expiresAt?: string | null; createdAt?: string; reason?: string | null }
export interface IngestOutcome { status: string; kind: string; reportDate?: string; rows: number; users: number; subscriptions: number; skipped?: { line: number; column?: string; reason: string }[]; skippedTotal?: number; version: number }
