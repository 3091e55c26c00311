package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
)

// Cold start under the Lambda Runtime Interface Emulator: every function is
// built as Lambda runs it (a static `bootstrap`, -tags lambda.norpc,
// stripped), for this machine's architecture, and started by
// aws-lambda-rie on loopback ports with its template.yaml environment,
// pointed at the run's DynamoDB Local and S3 server. The first event makes
// the emulator start the process; the clock runs from sending it to its
// answer (process start, Go runtime, AWS clients and handler built, first
// connections, the work). The same event is then sent again to the warm
// process: the difference is the price of the cold start.
//
// The emulator's own "Init Duration" is not used: this version starts the
// runtime asynchronously and reports only its own bookkeeping (hundredths
// of a millisecond), not the process's start-up.

// coldStartTimeout bounds one cold start.
const coldStartTimeout = time.Minute

func benchColdStart(ctx context.Context, r *runner) ([]Figure, error) {
	root, err := infra.RepoRoot()
	if err != nil {
		return nil, err
	}
	tools, err := infra.FindTools()
	if err != nil {
		return nil, err
	}
	rie, err := tools.Binary("aws-lambda-rie")
	if err != nil {
		return nil, err
	}
	binDir := filepath.Join(r.scratch, "functions")
	r.progress("coldstart", "building every function's bootstrap for linux/%s", runtime.GOARCH)
	build := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", binDir+"/", "./functions/...")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the functions: %w\n%s", err, out)
	}

	refs, err := localRefs(r.stack.template)
	if err != nil {
		return nil, err
	}
	var out []Figure
	for _, f := range r.stack.template.Functions() {
		name := filepath.Base(f.Dir)
		bootstrap := filepath.Join(binDir, name)
		info, err := os.Stat(bootstrap)
		if err != nil {
			r.note("cold start: %s has no binary (functions/%s has no main package yet)", f.LogicalID, name)
			continue
		}
		env, err := r.stack.template.ResolveEnvironment(f, refs)
		if err != nil {
			return out, err
		}
		payload, from, err := firstEvent(root, name, f.LogicalID, r.stack.template)
		if err != nil {
			return out, err
		}
		var colds, warms, inits, rss []float64
		for i := range r.opts.Runs {
			c, err := coldStart(ctx, rie, bootstrap, r.functionEnv(env, f), payload)
			if err != nil {
				return out, fmt.Errorf("%s: %w", f.LogicalID, err)
			}
			colds, warms, inits = append(colds, c.coldMS), append(warms, c.warmMS), append(inits, c.coldMS-c.warmMS)
			if c.rssMiB > 0 {
				rss = append(rss, c.rssMiB)
			}
			r.progress("coldstart", "%s run %d/%d: first event answered in %.1f ms, the second in %.1f ms, peak RSS %.0f MiB (event %s; answer %s)",
				name, i+1, r.opts.Runs, c.coldMS, c.warmMS, c.rssMiB, from, truncate(c.answer, 60))
		}
		cas := name
		const pathName = "cold start (Lambda emulator)"
		out = append(out,
			figure(pathName, cas, "first event to answer (cold)", "ms", colds).against("second event (warm)", warms),
			figure(pathName, cas, "init: cold − warm", "ms", inits),
			figure(pathName, cas, "bootstrap size", "bytes", []float64{float64(info.Size())}),
		)
		if len(rss) > 0 {
			out = append(out, figure(pathName, cas, "function peak RSS after two events", "MiB", rss))
		}
	}
	return out, nil
}

// localRefs maps the template's table and bucket to the run's.
func localRefs(t *infra.Template) (map[string]string, error) {
	refs := map[string]string{}
	for typ, name := range map[string]string{"AWS::DynamoDB::Table": benchTable, "AWS::S3::Bucket": benchBucket} {
		ids, err := t.LogicalIDs(typ)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			refs[id] = name
		}
	}
	return refs, nil
}

// functionEnv is the process environment of a function under the emulator:
// the template's variables, the local endpoints and credentials (DynamoDB
// Local takes any key; the S3 server only its own), and what Lambda sets.
func (r *runner) functionEnv(vars map[string]string, f infra.Function) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"AWS_REGION=" + infra.Region, "AWS_DEFAULT_REGION=" + infra.Region,
		"AWS_ACCESS_KEY_ID=" + r.svc.S3Access, "AWS_SECRET_ACCESS_KEY=" + r.svc.S3Secret,
		"AWS_ENDPOINT_URL_DYNAMODB=" + r.svc.DynamoDB, "AWS_ENDPOINT_URL_S3=" + r.svc.S3,
		"AWS_LAMBDA_FUNCTION_NAME=" + f.LogicalID,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(max(int(f.Timeout.Seconds()), 1)),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(max(f.MemorySize, 128)),
		"AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR",
	}
	for k, v := range vars {
		// The authorizer checks its settings when it starts; the issuer
		// is only fetched when a token is checked.
		if v == "" && (k == "OIDC_ISSUER" || k == "OIDC_AUDIENCE") {
			v = "https://login.bench.invalid/"
		}
		env = append(env, k+"="+v)
	}
	return env
}

// firstEvent is the event of a function's first invocation: its first
// sample under events/ (events/<function>-*.json), else one made from the
// template (a GET of its first route; a token for the authorizer; an empty
// batch for a stream consumer).
func firstEvent(root, name, logicalID string, t *infra.Template) ([]byte, string, error) {
	samples, _ := filepath.Glob(filepath.Join(root, "events", name+"-*.json"))
	slices.Sort(samples)
	if len(samples) > 0 {
		b, err := os.ReadFile(samples[0])
		return b, "events/" + filepath.Base(samples[0]), err
	}
	if logicalID == "AuthorizerFunction" {
		b, err := json.Marshal(map[string]string{"type": "TOKEN", "authorizationToken": "Bearer not-a-jwt",
			"methodArn": "arn:aws:execute-api:us-east-1:000000000000:bench/prod/GET/v1/portfolio"})
		return b, "a TOKEN request", err
	}
	var routes []infra.Route
	for _, rt := range t.Routes() {
		if rt.Function == logicalID {
			routes = append(routes, rt)
		}
	}
	slices.SortStableFunc(routes, func(a, b infra.Route) int {
		return boolRank(a.Method != http.MethodGet) - boolRank(b.Method != http.MethodGet)
	})
	if len(routes) == 0 {
		return []byte(`{"Records":[]}`), "an empty batch", nil
	}
	rt := routes[0]
	params := map[string]string{}
	path := regexp.MustCompile(`\{([^}/]+)\}`).ReplaceAllStringFunc(rt.Path, func(m string) string {
		params[strings.Trim(m, "{}")] = "bench"
		return "bench"
	})
	b, err := json.Marshal(proxyEvent(readTarget{Tenant: "bench", Resource: rt.Path, Path: path, PathParams: params}))
	return b, rt.Method + " " + rt.Path, err
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

type coldStartResult struct {
	coldMS, warmMS float64
	rssMiB         float64 // the function process's peak resident set; 0 if unknown
	answer         string
}

// coldStart starts the emulator with bootstrap, sends it payload and
// returns what it took.
func coldStart(ctx context.Context, rie, bootstrap string, env []string, payload []byte) (*coldStartResult, error) {
	ctx, cancel := context.WithTimeout(ctx, coldStartTimeout)
	defer cancel()
	invokePort, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	apiPort, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	invokeAddr := "127.0.0.1:" + strconv.Itoa(invokePort)
	cmd := exec.Command(rie, "--log-level", "error",
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(apiPort),
		bootstrap)
	cmd.Env = env
	logs := &tail{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = logs, logs
	// Its own process group: stopping it stops the function's process too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the emulator: %w", err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	for {
		conn, err := net.DialTimeout("tcp", invokeAddr, 100*time.Millisecond)
		if err == nil {
			conn.Close()
			break
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("the emulator did not listen on %s%s", invokeAddr, logs.indented())
		}
		time.Sleep(5 * time.Millisecond)
	}

	invoke := func() (time.Duration, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+invokeAddr+"/2015-03-31/functions/function/invocations", bytes.NewReader(payload))
		if err != nil {
			return 0, nil, err
		}
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, fmt.Errorf("invoking: %w%s", err, logs.indented())
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		elapsed := time.Since(start)
		if err != nil {
			return 0, nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, nil, fmt.Errorf("the emulator answered %s: %s%s", resp.Status, body, logs.indented())
		}
		return elapsed, body, nil
	}
	cold, answer, err := invoke()
	if err != nil {
		return nil, err
	}
	warm, _, err := invoke()
	if err != nil {
		return nil, err
	}
	return &coldStartResult{
		coldMS: cold.Seconds() * 1000, warmMS: warm.Seconds() * 1000,
		rssMiB: childPeakRSS(cmd.Process.Pid), answer: string(answer),
	}, nil
}

// childPeakRSS is the largest peak resident set (VmHWM) among the
// children of process pid — the function the emulator started — in MiB,
// or 0 when /proc does not say.
func childPeakRSS(pid int) float64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var peak float64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, child := range strings.Fields(string(b)) {
			status, err := os.ReadFile("/proc/" + child + "/status")
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(status), "\n") {
				if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
					peak = max(peak, kb/1024)
				}
			}
		}
	}
	return peak
}

// freeLoopbackPort asks the kernel for a free port on 127.0.0.1.
func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
