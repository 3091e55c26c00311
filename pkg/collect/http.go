package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Retry bounds: a 429 or 503 waits what Retry-After asks (at most
// MaxRetryAfter); other transient failures (5xx, network) back off
// exponentially from BaseDelay with full jitter. MaxAttempts counts the
// first try.
type Retry struct {
	MaxAttempts   int
	BaseDelay     time.Duration
	MaxRetryAfter time.Duration
}

// DefaultRetry: five tries, 0.5 s base, Retry-After honoured up to a
// minute (a Lambda collecting one customer has minutes, not hours).
var DefaultRetry = Retry{MaxAttempts: 5, BaseDelay: 500 * time.Millisecond, MaxRetryAfter: time.Minute}

// maxBody bounds one answer read into memory (a page, or the report): a
// tenant's active-user report is about 300 bytes a user, so 256 MiB is
// far beyond the largest tenants.
const maxBody = 256 << 20

// maxPages bounds a paged list, so a server that keeps answering the same
// nextLink cannot keep a collector busy forever.
const maxPages = 10_000

// request is one GET: where, with which bearer (empty: none) and headers,
// and how the partner names it in a message.
type request struct {
	url    string
	bearer string
	header http.Header
	what   string // e.g. "Graph subscribedSkus"
	hint   string // what to grant when the answer is 401/403
}

// httpDoer sends requests, never following redirects itself: the report's
// 302 must be followed without the bearer token, which net/http would keep
// on a same-host redirect.
type httpDoer struct {
	client *http.Client
	retry  Retry
	sleep  func(context.Context, time.Duration) error
}

func newDoer(hc *http.Client, r Retry) *httpDoer {
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if r.MaxAttempts <= 0 {
		r = DefaultRetry
	}
	return &httpDoer{client: &c, retry: r, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// answer is a read response.
type answer struct {
	status   int
	header   http.Header
	body     []byte
	location string
}

// get sends r until it gets an answer that is not transient, and maps a
// final failure to an *Error. A 2xx or 3xx is returned as is.
func (d *httpDoer) get(ctx context.Context, r request) (*answer, error) {
	var last error
	var lastStatus int
	for attempt := 1; ; attempt++ {
		a, err := d.once(ctx, r)
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, &Error{Code: CodeSourceError, Message: r.what + ": the collection ran out of time; the next run retries it", Err: ctx.Err()}
			}
			last, lastStatus = err, 0
			wait = d.backoff(attempt)
		case a.status < 400:
			return a, nil
		case a.status == http.StatusTooManyRequests || a.status == http.StatusServiceUnavailable:
			last, lastStatus = fmt.Errorf("%s answered %d", r.url, a.status), a.status
			wait = d.retryAfter(a.header, attempt)
		case a.status >= 500:
			last, lastStatus = fmt.Errorf("%s answered %d: %s", r.url, a.status, snippet(a.body)), a.status
			wait = d.backoff(attempt)
		default:
			return nil, statusError(r, a)
		}
		if attempt >= d.retry.MaxAttempts {
			break
		}
		if err := d.sleep(ctx, wait); err != nil {
			return nil, &Error{Code: CodeSourceError, Message: r.what + ": the collection ran out of time; the next run retries it", Err: err}
		}
	}
	if lastStatus == http.StatusTooManyRequests {
		return nil, &Error{Code: CodeThrottled, Err: last, Message: fmt.Sprintf(
			"%s still throttled (429) after %d tries: the next run retries it; if it persists, lower COLLECT_CONCURRENCY", r.what, d.retry.MaxAttempts)}
	}
	return nil, &Error{Code: CodeSourceError, Err: last, Message: fmt.Sprintf(
		"%s failed %d times (unavailable or unreachable): the next run retries it; if it persists, check the endpoint's health", r.what, d.retry.MaxAttempts)}
}

func (d *httpDoer) once(ctx context.Context, r request) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", r.url, err)
	}
	if len(body) > maxBody {
		return nil, &Error{Code: CodeSourceError, Message: fmt.Sprintf("%s is larger than %d MiB: upload it yourself (POST /v1/uploads)", r.what, maxBody>>20)}
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: body, location: resp.Header.Get("Location")}, nil
}

// backoff is full jitter: a uniform wait in [0, base·2^(attempt-1)].
func (d *httpDoer) backoff(attempt int) time.Duration {
	ceiling := d.retry.BaseDelay << min(attempt-1, 10)
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// retryAfter reads Retry-After (seconds, or an HTTP date), capped; without
// one it backs off like any transient failure.
func (d *httpDoer) retryAfter(h http.Header, attempt int) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return d.backoff(attempt)
	}
	var wait time.Duration
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		wait = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		wait = time.Until(t)
	} else {
		return d.backoff(attempt)
	}
	return min(max(wait, 0), d.retry.MaxRetryAfter)
}

func statusError(r request, a *answer) error {
	err := fmt.Errorf("%s answered %d: %s", r.url, a.status, snippet(a.body))
	switch a.status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return &Error{Code: CodeForbidden, Err: err, Message: fmt.Sprintf("%s answered %d: %s", r.what, a.status, r.hint)}
	case http.StatusNotFound:
		return &Error{Code: CodeNotFound, Err: err, Message: r.what + " answered 404: the customer may have left this partner or the tenant was deleted; remove it from your list or check it in Partner Center"}
	}
	return &Error{Code: CodeSourceError, Err: err, Message: fmt.Sprintf("%s answered %d: report this with the run's id if it persists", r.what, a.status)}
}

func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}

// sameOrigin says whether link is on base's scheme and host: a bearer token
// is only ever sent back to the service that issued the link.
func sameOrigin(base, link string) bool {
	b, err1 := url.Parse(base)
	l, err2 := url.Parse(link)
	return err1 == nil && err2 == nil && l.Scheme == b.Scheme && strings.EqualFold(l.Host, b.Host)
}

var errNoLocation = errors.New("a redirect without a Location header")
