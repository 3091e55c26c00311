// Sign-in. Locally: a token of LOCAL_API_TOKENS typed into a form, kept in
// sessionStorage (this tab only, never in the URL). In AWS: Entra ID with
// the authorization code flow and PKCE through @azure/msal-browser, loaded
// only then (its own chunk), for the API's audience.
import { ApiError, configureApi, request } from "./api";

export interface Config { auth: "local" | "entra"; clientId?: string; authority?: string; scopes?: string[] }
export type Role = "reader" | "writer";
const TOKEN_KEY = "li.token";

let msal: any = null;
let config: Config = { auth: "local" };

export async function loadConfig(): Promise<Config> {
  const res = await fetch("/config.json", { cache: "no-store" });
  if (!res.ok) throw new Error("/config.json answered " + res.status + ": the dashboard cannot tell how to sign in");
  config = await res.json();
  return config;
}

async function entra() {
  if (!msal) {
    const { PublicClientApplication } = await import("@azure/msal-browser");
    msal = new PublicClientApplication({
      auth: { clientId: config.clientId!, authority: config.authority, redirectUri: location.origin + "/" },
      cache: { cacheLocation: "sessionStorage" },
    });
    await msal.initialize();
    const result = await msal.handleRedirectPromise();
    if (result?.account) msal.setActiveAccount(result.account);
  }
  return msal;
}

export async function currentToken(): Promise<string | null> {
  if (config.auth === "local") return sessionStorage.getItem(TOKEN_KEY);
  const app = await entra();
  const account = app.getActiveAccount() ?? app.getAllAccounts()[0];
  if (!account) return null;
  try {
    const r = await app.acquireTokenSilent({ account, scopes: config.scopes ?? [] });
    return r.accessToken;
  } catch {
    return null;
  }
}

export async function signInEntra() {
  const app = await entra();
  await app.loginRedirect({ scopes: config.scopes ?? [] });
}

export function saveLocalToken(token: string) { sessionStorage.setItem(TOKEN_KEY, token); }

export async function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  if (config.auth === "entra" && msal) {
    await msal.logoutRedirect();
  }
}

// The role is read from the API itself: the export list is a writer route,
// so a reader's token gets 403 there (and a bad token 401). No claim
// parsing in the page, and the same answer locally and in AWS.
export async function probeRole(): Promise<Role> {
  try {
    await request("GET", "/v1/exports?limit=1");
    return "writer";
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return "reader";
    throw e;
  }
}

export { configureApi };
