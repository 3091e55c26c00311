package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func builtDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"index.html":       "<!doctype html><title>x</title>",
		"assets/main-A.js": "console.log(1)",
		".secret":          "no",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestHandlerServesFilesWithSecurityHeaders(t *testing.T) {
	h := Handler(builtDir(t), Config{Auth: "local"})
	for _, tc := range []struct {
		path, body, cache string
		status            int
	}{
		{"/", "<!doctype html><title>x</title>", "no-cache", 200},
		{"/assets/main-A.js", "console.log(1)", "public, max-age=31536000, immutable", 200},
		{"/assets/missing.js", "", "", 404},
		{"/.secret", "", "", 404},
		{"/../web.go", "", "", 404},
	} {
		rec := serve(t, h, http.MethodGet, tc.path)
		if rec.Code != tc.status {
			t.Errorf("GET %s: status %d, want %d", tc.path, rec.Code, tc.status)
		}
		if tc.body != "" && rec.Body.String() != tc.body {
			t.Errorf("GET %s: body %q, want %q", tc.path, rec.Body.String(), tc.body)
		}
		if got := rec.Header().Get("Cache-Control"); got != tc.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tc.path, got, tc.cache)
		}
		// Every answer, errors included, carries the headers.
		for k, v := range SecurityHeaders {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("GET %s: %s = %q, want %q", tc.path, k, got, v)
			}
		}
	}
	if rec := serve(t, h, http.MethodPost, "/"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: status %d, want 405", rec.Code)
	}
}

func TestContentSecurityPolicyForbidsInlineScriptAndFraming(t *testing.T) {
	directives := map[string]string{}
	for _, d := range strings.Split(ContentSecurityPolicy, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	for name, want := range map[string]string{
		"default-src":     "'none'",
		"script-src":      "'self'",
		"style-src":       "'self'",
		"frame-ancestors": "'none'",
		"base-uri":        "'none'",
	} {
		if directives[name] != want {
			t.Errorf("CSP %s = %q, want %q", name, directives[name], want)
		}
	}
	if strings.Contains(ContentSecurityPolicy, "unsafe-") {
		t.Errorf("CSP allows something unsafe: %s", ContentSecurityPolicy)
	}
}

func TestConfigDocument(t *testing.T) {
	h := Handler(t.TempDir(), Config{Auth: "local"})
	rec := serve(t, h, http.MethodGet, "/config.json")
	var got Config
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Auth != "local" {
		t.Fatalf("/config.json = %s (%v), want auth local", rec.Body.String(), err)
	}
	if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("/config.json headers: %v", rec.Header())
	}
}

func TestNotBuiltSaysWhatToRun(t *testing.T) {
	rec := serve(t, Handler(t.TempDir(), Config{Auth: "local"}), http.MethodGet, "/")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "make web") {
		t.Errorf("GET / without a build: %d %q, want 503 naming `make web`", rec.Code, rec.Body.String())
	}
}

// CloudFront sets the headers in AWS (template.yaml's
// DashboardHeadersPolicy): they must be the ones served locally.
func TestTemplateHeadersPolicyMatches(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := string(data)
	m := regexp.MustCompile(`(?m)^\s+ContentSecurityPolicy: "(.*)"$`).FindStringSubmatch(tmpl)
	if m == nil {
		t.Fatal("template.yaml has no ContentSecurityPolicy in DashboardHeadersPolicy")
	}
	if m[1] != ContentSecurityPolicy {
		t.Errorf("template.yaml CSP\n  %s\nwant pkg/web's\n  %s", m[1], ContentSecurityPolicy)
	}
	for _, want := range []string{"FrameOption: DENY", "ReferrerPolicy: " + SecurityHeaders["Referrer-Policy"], "ContentTypeOptions:"} {
		if !strings.Contains(tmpl, want) {
			t.Errorf("template.yaml's DashboardHeadersPolicy lacks %q", want)
		}
	}
}
