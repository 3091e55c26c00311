// Package web serves the dashboard's built assets (web/dist, built by
// `make web`) beside the API on the local stack, with the security headers
// CloudFront adds in AWS (template.yaml, DashboardHeadersPolicy).
//
// The assets are read from the build folder rather than embedded: in AWS
// they are served by CloudFront from the data bucket's dashboard/ prefix, so
// no Lambda binary needs them, and `go vet ./...` works on a clean clone
// before anything is built.
package web

import (
	"encoding/json"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ContentSecurityPolicy allows only the project's own scripts and styles
// (no inline script, no eval), API calls to its own origin and sign-in with
// Entra ID, and no framing. template.yaml's response headers policy carries
// the same string (a test holds them equal).
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self' https://login.microsoftonline.com; frame-src https://login.microsoftonline.com; " +
	"manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// SecurityHeaders are set on every answer of the dashboard.
var SecurityHeaders = map[string]string{
	"Content-Security-Policy": ContentSecurityPolicy,
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "no-referrer",
	"X-Frame-Options":         "DENY",
}

// Config is the small document the page reads at /config.json to know how
// to sign in. Locally Auth is "local" (a LOCAL_API_TOKENS token typed into
// a form); in AWS a CloudFront Function answers it with "entra" and the
// API's issuer and audience.
type Config struct {
	Auth      string   `json:"auth"`
	ClientID  string   `json:"clientId,omitempty"`
	Authority string   `json:"authority,omitempty"`
	Scopes    []string `json:"scopes,omitempty"`
}

// notBuilt answers when the build folder has no index.html: it says what to
// run rather than a bare 404.
const notBuilt = "The dashboard is not built: run `make web` (or `make run`, which does), then reload.\n"

// Handler serves the files of dir and /config.json. Paths are cleaned and
// kept inside dir; dot files and directories are not served.
func Handler(dir string, cfg Config) http.Handler {
	cfgJSON, _ := json.Marshal(cfg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range SecurityHeaders {
			w.Header().Set(k, v)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the dashboard's files are read-only: use GET", http.StatusMethodNotAllowed)
			return
		}
		p := path.Clean("/" + r.URL.Path)
		if p == "/config.json" {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(cfgJSON)
			return
		}
		if p == "/" {
			p = "/index.html"
		}
		for _, seg := range strings.Split(p, "/") {
			if strings.HasPrefix(seg, ".") {
				http.NotFound(w, r)
				return
			}
		}
		file := filepath.Join(dir, filepath.FromSlash(p))
		info, err := os.Stat(file)
		if err != nil || info.IsDir() {
			if p == "/index.html" {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(notBuilt))
				return
			}
			http.NotFound(w, r)
			return
		}
		// index.html names the bundles by content hash: it is revalidated
		// every time, and the bundles can be kept.
		if p == "/index.html" {
			w.Header().Set("Cache-Control", "no-cache")
		} else if strings.HasPrefix(p, "/assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		http.ServeFile(w, r, file)
	})
}

// Dir is the build folder of the repository rooted at root.
func Dir(root string) string { return filepath.Join(root, "web", "dist") }
