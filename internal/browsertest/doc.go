// Package browsertest runs the dashboard's browser tests
// (web/test/browser.mjs: puppeteer-core driving Debian's headless chromium,
// axe-core) against the local stack with a demo portfolio, inside `go test
// ./...` and so inside `make test`.
//
// The Go side starts the stack — the same way the other end-to-end suites
// do (internal/apitest) — with the dashboard served beside /v1 (pkg/web),
// and hands the script its URL and two tokens (a writer, a reader). The
// script asserts; this test fails when it exits non-zero and shows its
// output. Screenshots go to web/test-results/screenshots (git-ignored).
package browsertest
