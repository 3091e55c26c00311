package browsertest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/apitest"
	"github.com/licenseinsights/licenseinsights/internal/devstack"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"

	"github.com/licenseinsights/licenseinsights/pkg/web"
)

const (
	writerToken = "browser-writer"
	readerToken = "browser-reader"
	tenantID    = "browser-partner"
)

// chromium is Debian's package (`apt-get install -y chromium`; .ci/run
// installs it) as found on PATH; CHROMIUM points elsewhere.
func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return "/usr/bin/chromium"
}

func TestDashboardInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the browser tests need the local stack and chromium")
	}
	root, err := infra.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	browser := chromium()
	if _, err := os.Stat(browser); err != nil {
		t.Fatalf("no chromium at %s: install Debian's package (`sudo apt-get install -y chromium`, which .ci/run does) or set CHROMIUM to its path", browser)
	}
	for _, need := range []string{"web/dist/index.html", "web/node_modules/puppeteer-core/package.json", "web/node_modules/axe-core/axe.min.js"} {
		if _, err := os.Stat(filepath.Join(root, need)); err != nil {
			t.Fatalf("%s is missing: run `make web` (make test does) before the browser tests", need)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: the browser tests are a Node.js script (README prerequisites)")
	}

	stack := apitest.StartSuite(t, writerToken+"="+tenantID+","+readerToken+"="+tenantID+":reader", devstack.Options{
		// The template's configuration at its defaults: nothing of the
		// machine's environment leaks in.
		Getenv: func(string) string { return "" },
		Web:    web.Handler(web.Dir(root), web.Config{Auth: "local"}),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// 24 customers: more than one page of the customer list (20 a page).
	sum, err := stack.LoadDemo(ctx, devstack.DemoOptions{Customers: 24, Users: 30})
	if err != nil {
		t.Fatalf("loading the demo portfolio: %v", err)
	}
	t.Logf("demo: %d customers, %d users", sum.Customers, sum.Users)
	apitest.WaitIdle(t, stack)

	run, stop := context.WithTimeout(context.Background(), 10*time.Minute)
	defer stop()
	cmd := exec.CommandContext(run, node, filepath.Join(root, "web", "test", "browser.mjs"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"BASE_URL="+stack.APIURL,
		"TOKEN="+writerToken,
		"READER_TOKEN="+readerToken,
		"CHROMIUM="+browser,
		"OUT_DIR="+filepath.Join(root, "web", "test-results"),
	)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for lines.Scan() {
		t.Log(lines.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the browser tests failed (%v): see the FAIL lines above", err)
	}
}
