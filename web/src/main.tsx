import "./style.css";
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError } from "./api";
import { configureApi, currentToken, loadConfig, probeRole, saveLocalToken, signInEntra, signOut, type Config, type Role } from "./auth";
import { initialLang, makeI18n, saveLang, type Lang } from "./i18n";
import { AppCtx, useApp } from "./ui";
import { Portfolio } from "./pages/portfolio";
import { Customers } from "./pages/customers";
import { Insights } from "./pages/insights";
import { Exports } from "./pages/exports";
import { Uploads } from "./pages/uploads";
import { Collections } from "./pages/collections";
import { windows } from "./pages/window";

// Hash routes (#/customers?sort=-usage): the server (CloudFront or the
// local stack) serves one index.html and needs no rewrite rules.
function useRoute() {
  const read = () => {
    const h = location.hash.replace(/^#/, "") || "/portfolio";
    const [path, qs] = h.split("?");
    return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(qs ?? "") };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => { setRoute(read()); document.getElementById("main")?.focus(); };
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

type Session = { state: "checking" } | { state: "signedOut"; message?: string } | { state: "in"; role: Role };

function App({ config }: { config: Config }) {
  const [lang, setLang] = useState<Lang>(initialLang());
  const i = useMemo(() => makeI18n(lang), [lang]);
  const [session, setSession] = useState<Session>({ state: "checking" });
  useEffect(() => { document.documentElement.lang = lang; }, [lang]);

  const check = async (message?: string) => {
    if (!(await currentToken())) return setSession({ state: "signedOut", message });
    try {
      setSession({ state: "in", role: await probeRole() });
    } catch (e) {
      setSession({ state: "signedOut", message: e instanceof ApiError && e.status === 401 ? i.t("badToken") : (e as Error).message });
    }
  };
  useEffect(() => {
    // A 401 anywhere ends the session: back to sign-in, saying why.
    configureApi(currentToken, () => { sessionStorage.removeItem("li.token"); setSession({ state: "signedOut", message: i.t("sessionEnded") }); });
    check();
  }, []);

  const changeLang = (l: Lang) => { saveLang(l); setLang(l); };
  const role: Role = session.state === "in" ? session.role : "reader";
  return (
    <AppCtx.Provider value={{ i, role }}>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>{i.t("skip")}</a>
      <header class="top">
        <span class="brand">{i.t("appName")}</span>
        {session.state === "in" && <Nav role={session.role} />}
        <div class="tools">
          <label class="inline">{i.t("language")}{" "}
            <select value={lang} onChange={(e) => changeLang((e.target as HTMLSelectElement).value as Lang)}>
              <option value="en" lang="en">English</option>
              <option value="fr" lang="fr">Français</option>
            </select>
          </label>
          {session.state === "in" && <>
            {session.role === "reader" && <span class="badge" data-testid="reader-badge">{i.t("readerBadge")}</span>}
            <button type="button" onClick={async () => { await signOut(); setSession({ state: "signedOut" }); }}>{i.t("signOut")}</button>
          </>}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {session.state === "checking" && <p class="loading" role="status">{i.t("loading")}</p>}
        {session.state === "signedOut" && <SignIn config={config} message={session.message} onSignedIn={() => check()} />}
        {session.state === "in" && <Routes />}
      </main>
    </AppCtx.Provider>
  );
}

function Nav({ role }: { role: Role }) {
  const { i } = useApp();
  const route = useRoute();
  const here = route.parts[0] ?? "portfolio";
  const items: [string, string][] = [["portfolio", i.t("navPortfolio")], ["customers", i.t("navCustomers")]];
  // A reader's token cannot write: the pages that only write (or list what
  // writers made) are not offered.
  if (role === "writer") items.push(["exports", i.t("navExports")], ["uploads", i.t("navUploads")]);
  items.push(["collections", i.t("navCollections")]);
  return (
    <nav aria-label="main">
      <ul>{items.map(([k, label]) => <li key={k}><a href={`#/${k}`} aria-current={here === k ? "page" : undefined}>{label}</a></li>)}</ul>
    </nav>
  );
}

function Routes() {
  const { role } = useApp();
  const { parts, query } = useRoute();
  const w = Number(query.get("window") ?? 28);
  const window = windows.includes(w) ? w : 28;
  useEffect(() => { document.title = "License Insights · " + (parts[0] ?? "portfolio"); }, [parts.join("/")]);
  switch (parts[0] ?? "portfolio") {
    case "customers":
      return parts[1] ? <Insights id={parts[1]} window={window} /> : <Customers query={query} />;
    case "exports":
      return role === "writer" ? <Exports query={query} /> : <Portfolio window={window} />;
    case "uploads":
      return role === "writer" ? <Uploads query={query} /> : <Portfolio window={window} />;
    case "collections":
      return <Collections />;
    default:
      return <Portfolio window={window} />;
  }
}

function SignIn({ config, message, onSignedIn }: { config: Config; message?: string; onSignedIn: () => void }) {
  const { i } = useApp();
  const [token, setToken] = useState("");
  return (
    <section class="signin">
      <h1>{i.t("signInTitle")}</h1>
      {message && <p class="error" role="alert">{message}</p>}
      {config.auth === "entra" ? (
        <>
          <p>{i.t("signInEntra")}</p>
          <button type="button" onClick={() => signInEntra()}>{i.t("signInMicrosoft")}</button>
        </>
      ) : (
        <form class="stack" onSubmit={(e) => { e.preventDefault(); saveLocalToken(token.trim()); onSignedIn(); }}>
          <p>{i.t("signInLocal")}</p>
          <label>{i.t("token")} <input type="password" name="token" autoComplete="off" required value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} /></label>
          <button type="submit">{i.t("signIn")}</button>
        </form>
      )}
    </section>
  );
}

loadConfig().then(
  (config) => {
    const root = document.getElementById("app")!;
    root.textContent = ""; // the static "Loading…" of index.html
    render(<App config={config} />, root);
  },
  (e) => { document.getElementById("app")!.textContent = String(e.message ?? e); },
);
