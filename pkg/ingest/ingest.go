// Package ingest accepts one source document for a customer: it parses the
// document as a stream, combines it with the customer's other current
// documents, computes the figures of every window and stores the new state
// so that readers switch from the old state to the new one atomically.
//
// The steps of one ingest:
//
//  1. Parse, hashing the raw bytes on the way (SHA-256). A document that
//     fails validation stops here: nothing is written.
//  2. Load the customer's state (FIGURES, then the accepted SOURCE# items).
//     A document whose hash equals the current one of its kind is
//     "unchanged": nothing is written.
//  3. Users: a document with users (snapshot, active user detail) replaces
//     the current users when its report date is not older than theirs (on
//     equal dates the later document wins); an older one is ErrStale. A
//     subscriptions-only document keeps the current users, read back from
//     the current generation.
//  4. Subscriptions: license.CombineSubscriptions over the accepted sets,
//     with this document's set in place of its kind's.
//  5. Compute, write every user into a new generation (entitled flags can
//     change with any subscription change), then Commit, conditioned on the
//     version read in 2. On a conflict (another ingest committed meanwhile)
//     the abandoned generation is deleted and 2–5 run again, up to three
//     times in all.
//  6. After the commit, delete every generation below the new one that is
//     not yet deleted (store.SweepGenerations keeps a low-water mark). This
//     also sweeps generations that crashed ingests left behind, and makes up
//     for a sweep that failed: generation numbers only grow, and a
//     generation is taken after the state is read, so every generation below
//     the new current one either belonged to a state that is now replaced or
//     to an ingest whose commit must fail.
//
// A commit that fails in a way that leaves its outcome unknown (the answer
// lost on the way back) is checked against FIGURES before its generation is
// deleted: if it took effect, the ingest succeeded.
package ingest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/observe"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/spill"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// Errors the API maps to status codes. Parse errors are *source.InvalidError.
var (
	// ErrKind (400): the kind is unknown or could not be detected.
	ErrKind = errors.New("document kind")
	// ErrStale (409): a newer document already gives the customer's users.
	ErrStale = errors.New("a newer document is already current")
	// ErrConflict (409): other ingests kept changing the customer.
	ErrConflict = store.ErrConflict
)

// Outcome statuses.
const (
	StatusAccepted  = "accepted"
	StatusUnchanged = "unchanged"
)

// attempts is how many times an ingest computes and commits before it
// gives up with ErrConflict.
const attempts = 3

// Config is the ingest service's configuration.
type Config struct {
	// PartnerTenantID is the partner's own Entra tenant id (directory
	// subscriptions owned by it are channel own).
	PartnerTenantID string
	// A customer is an upsell candidate when both its deployment % and its
	// usage % (default window) reach these (license.Thresholds.IsUpsell);
	// zero means license's default.
	UpsellDeploymentPercent, UpsellUsagePercent float64
	// ProductName names SKUs no subscription names (may be nil).
	ProductName func(sku string) string
	// Exclusions decide the excluded products; nil is the default list
	// (docs/definitions.md#excluded-products).
	Exclusions *license.Exclusions
	// RetiredWorkloads: nil is license.DefaultRetiredWorkloads.
	RetiredWorkloads []license.Workload
	// Logger receives what goes wrong after a commit (a failed sweep);
	// nil is slog.Default().
	Logger *slog.Logger
	// SpillDir is where a large customer's users wait while its figures
	// are computed ("" is os.TempDir(): /tmp in Lambda); SpillMemory is
	// how many encoded bytes stay in memory first (0: spill.DefaultMemory).
	SpillDir    string
	SpillMemory int
}

// Service ingests documents into a store.
type Service struct {
	store *store.Store
	cfg   Config
}

// New is a Service writing to st.
func New(st *store.Store, cfg Config) *Service {
	if cfg.UpsellDeploymentPercent == 0 {
		cfg.UpsellDeploymentPercent = license.DefaultUpsellDeploymentPercent
	}
	if cfg.UpsellUsagePercent == 0 {
		cfg.UpsellUsagePercent = license.DefaultUpsellUsagePercent
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{store: st, cfg: cfg}
}

// Request is one document for one customer.
type Request struct {
	Tenant     license.Tenant
	CustomerID string
	// Kind of the document; "" detects it from the first bytes.
	Kind        source.Kind
	Body        io.Reader
	SkipInvalid bool
	// Replace takes the document as the customer's current one of its kind
	// even when its report date is older than the current users' (the
	// partner replaces a wrong document on purpose); the day's history
	// point records it.
	Replace bool
	// Now is the acceptance time (zero: the clock); report dates more than
	// license.ReportDateSlackDays after its day are refused.
	Now time.Time
}

// Outcome is what an ingest did.
type Outcome struct {
	Status     string       `json:"status"` // StatusAccepted or StatusUnchanged
	Kind       source.Kind  `json:"kind"`
	ReportDate license.Date `json:"reportDate,omitempty"`
	// Rows, Users and Subscriptions count the document's records, users
	// and subscriptions (not the combined state's).
	Rows          int              `json:"rows"`
	Users         int              `json:"users"`
	Subscriptions int              `json:"subscriptions"`
	Skipped       []source.Problem `json:"skipped,omitempty"`
	SkippedTotal  int              `json:"skippedTotal,omitempty"` // all skipped problems; Skipped lists the first ones
	// Version is the customer's figures version after the ingest.
	Version int64 `json:"version"`
	// Replaced is true when the document replaced the current one of its
	// kind on purpose (Request.Replace).
	Replaced bool `json:"replaced,omitempty"`
}

// parsed is a document after step 1.
type parsed struct {
	doc   *source.Document
	users *spill.Users // nil when the document carries no users
	hash  string
}

// Ingest runs the steps in the package documentation.
func (s *Service) Ingest(ctx context.Context, req Request) (*Outcome, error) {
	if !req.Tenant.Valid() {
		return nil, license.ErrNoTenant
	}
	if err := license.ValidCustomerID(req.CustomerID); err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, errors.New("ingest: no document body")
	}
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	req.Now = req.Now.UTC()

	// Every step's subsegment carries these (in Lambda the function's own
	// segment is a facade that takes no annotations).
	ctx = observe.Annotate(ctx, "tenant", req.Tenant.ID(), "customer", req.CustomerID)
	var p *parsed
	err := observe.Step(ctx, observe.StepParse, func(ctx context.Context) error {
		var err error
		p, err = s.parse(req)
		return err
	})
	if err != nil {
		return nil, err
	}
	if p.users != nil {
		defer p.users.Close()
	}
	out := &Outcome{
		Status: StatusAccepted, Kind: p.doc.Kind, ReportDate: p.doc.ReportDate,
		Rows: p.doc.Rows, Users: p.doc.Users, Subscriptions: len(p.doc.Subscriptions), Skipped: p.doc.Skipped, SkippedTotal: p.doc.SkippedTotal,
	}
	for attempt := 1; ; attempt++ {
		version, err := s.try(ctx, req, p)
		if errors.Is(err, errUnchanged) {
			out.Status, out.Version = StatusUnchanged, version
			return out, nil
		}
		if err == nil {
			out.Version, out.Replaced = version, req.Replace
			return out, nil
		}
		if !errors.Is(err, store.ErrConflict) || attempt == attempts {
			return nil, err
		}
		// Someone else committed: back off a little (jittered, so two
		// ingests racing for one customer fall out of step) and redo.
		pause := time.Duration(attempt) * (20*time.Millisecond + rand.N(60*time.Millisecond))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
	}
}

// parse is step 1: detect the kind if needed, parse, hash every byte.
func (s *Service) parse(req Request) (*parsed, error) {
	body := bufio.NewReaderSize(req.Body, 64<<10)
	kind := req.Kind
	if kind == "" {
		head, err := body.Peek(source.DetectSize)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("reading the document: %w", err)
		}
		if kind, err = source.Detect(head); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrKind, err)
		}
	} else {
		var err error
		if kind, err = source.ParseKind(string(kind)); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrKind, err)
		}
	}
	hash := sha256.New()
	raw := io.TeeReader(body, hash)
	// The users go straight to a spill (memory, then /tmp): an ingest never
	// holds a customer's users as Go values, whatever their number.
	users := s.spill()
	doc, err := source.Parse(raw, kind, source.Options{
		PartnerTenantID: s.cfg.PartnerTenantID,
		SkipInvalid:     req.SkipInvalid,
		CustomerID:      req.CustomerID,
		Today:           today(req.Now),
		ReuseUser:       true,
	}, func(u license.User) error {
		return users.Add(&u)
	})
	if err != nil {
		users.Close()
		return nil, err
	}
	// A parser may stop before the end (trailing whitespace, a final
	// newline): the identity of a document is all of its bytes.
	if _, err := io.Copy(io.Discard, raw); err != nil {
		return nil, fmt.Errorf("reading the document: %w", err)
	}
	if doc.Kind == "" {
		doc.Kind = kind
	}
	if !doc.HasUsers {
		users.Close()
		users = nil
	}
	// The parser's table of key hashes (~22 MiB for a million users) is
	// garbage now, but the collector's next goal was set while it was
	// live: collected now, the rows encoded next are collected at twice
	// what the compute holds (a few MiB), not twice the table. Measured on
	// a 1M-user snapshot: peak RSS 61 → 50 MiB; one collection of a small,
	// mostly pointer-free heap costs about a millisecond.
	runtime.GC()
	return &parsed{doc: doc, users: users, hash: hex.EncodeToString(hash.Sum(nil))}, nil
}

// spill is an empty set of users as configured.
func (s *Service) spill() *spill.Users { return spill.New(s.cfg.SpillDir, s.cfg.SpillMemory) }

// today is the UTC day of now, or of the clock when now is zero.
func today(now time.Time) license.Date {
	if now.IsZero() {
		now = time.Now()
	}
	return license.DateOf(now)
}

// errUnchanged ends an attempt whose document is already current.
var errUnchanged = errors.New("unchanged")

// try is steps 2–6 once. It returns the new version, or the current one
// with errUnchanged.
//
// With p nil it recomputes: no new document, the kept ones (SOURCE# items
// and the current users) computed again under today's rules.
func (s *Service) try(ctx context.Context, req Request, p *parsed) (int64, error) {
	t, id := req.Tenant, req.CustomerID
	st, err := s.store.LoadState(ctx, t, id)
	if err != nil {
		return 0, err
	}
	var record store.SourceRecord
	doc := &source.Document{}
	if p != nil {
		doc = p.doc
		if cur, ok := st.Sources[string(doc.Kind)]; ok && cur.SHA256 == p.hash {
			return st.Version(), errUnchanged
		}
		record = store.SourceRecord{
			Kind: string(doc.Kind), SHA256: p.hash, AcceptedAt: req.Now, ReportDate: doc.ReportDate,
			Rows: doc.Rows, Users: doc.Users,
			HasSubscriptions: doc.HasSubscriptions, HasUsers: doc.HasUsers,
			Subscriptions: doc.Subscriptions, Support: doc.Support, Copilot: doc.Copilot,
		}
		if err := checkFreshCopilot(st, doc); err != nil {
			return 0, err
		}
	} else {
		if st.Figures == nil {
			return 0, store.ErrNotFound
		}
		// The commit rewrites one SOURCE# item: the users' own, as it is.
		rec, ok := st.Sources[st.Figures.UsersKind]
		if !ok {
			for _, r := range st.Sources {
				if rec.Kind == "" || r.Kind < rec.Kind {
					rec = r
				}
			}
		}
		record = rec
	}
	kind := record.Kind
	// Users (step 3).
	var (
		users     *spill.Users
		usersKind string
		current   = st.Figures
	)
	if doc.HasUsers {
		if err := checkFresh(st, doc, license.DateOf(req.Now), req.Replace); err != nil {
			return 0, err
		}
		users, usersKind = p.users, kind
	} else {
		users = s.spill()
		defer users.Close()
		if current != nil {
			usersKind = current.UsersKind
			err := s.store.GenerationUsers(ctx, t, id, current.Generation, current.Shards, func(r store.UserRow) error {
				return users.Add(&r.User)
			})
			if err != nil {
				return 0, err
			}
		}
	}

	sources := st.Sources
	sources[kind] = record

	// Subscriptions (step 4).
	subs := license.CombineSubscriptions(license.Sources{
		Snapshot:       subscriptionSet(sources, source.KindSnapshot),
		Directory:      subscriptionSet(sources, source.KindDirectorySubs),
		SubscribedSkus: subscriptionSet(sources, source.KindSubscribedSkus),
		PartnerCenter:  subscriptionSet(sources, source.KindPartnerCenterSubs),
	})

	knownProduct := ResolveProducts(users, subs)

	var support *license.Support
	if snap, ok := sources[string(source.KindSnapshot)]; ok {
		support = snap.Support
	}

	gen, err := s.store.NextGeneration(ctx, t, id)
	if err != nil {
		return 0, err
	}
	shards := store.ShardsFor(users.Len())
	abandon := func(cause error) error {
		// The generation is not current; remove what was written of it.
		// If this fails too (the store is unreachable) a later ingest's
		// sweep removes it. The caller's context may be the thing that
		// failed, so the clean-up has its own.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := s.store.DeleteGeneration(cctx, t, id, gen, shards); err != nil {
			s.cfg.Logger.Warn("abandoned generation left for the next sweep",
				"tenant", t.ID(), "customer", id, "generation", gen, "error", err)
		}
		return cause
	}
	// Compute (step 5): the engine's census and cuts here; its count
	// replays the users once more under the write step, writing every
	// user's row into the new generation as it goes (the rows need the
	// entitled flags, and reading a million users once more would cost as
	// much again).
	var allocation *license.Allocation
	err = observe.Step(ctx, observe.StepCompute, func(ctx context.Context) error {
		var err error
		allocation, err = license.Allocate(license.Input{
			Customer:         s.customer(id, doc, current),
			ReportDate:       reportDate(req.Now, usersKind, sources, current),
			Subscriptions:    subs,
			ProductName:      s.cfg.ProductName,
			KnownProduct:     knownProduct,
			Exclusions:       s.cfg.Exclusions,
			RetiredWorkloads: s.cfg.RetiredWorkloads,
		}, users.Replay)
		return err
	})
	if err != nil {
		return 0, abandon(err)
	}
	expected := st.Version()
	err = observe.Step(ctx, observe.StepWrite, func(ctx context.Context) error {
		rows, err := s.store.NewUserWriter(ctx, t, id, gen, shards)
		if err != nil {
			return abandon(err)
		}
		var seats []license.CopilotSeat
		figures, err := allocation.Count(users.Replay, func(u *license.User, entitled bool) error {
			if seat, ok := license.CopilotSeatOf(u); ok {
				seats = append(seats, seat)
			}
			return rows.Write(u, entitled)
		})
		if closeErr := rows.Close(); err == nil {
			err = closeErr
		}
		if err != nil {
			return abandon(err)
		}
		figures.Copilot = copilotFigures(sources, subs, seats)
		err = s.store.Commit(ctx, store.Commit{
			Tenant: t, CustomerID: id, ExpectedVersion: expected,
			Generation: gen, Shards: shards, Users: users.Len(), UsersKind: usersKind,
			Figures: &figures, Source: record, Support: support, Subscriptions: subs,
			Upsell: s.upsell(&figures), Now: req.Now, Replaced: replaced(req, kind),
		})
		if err == nil {
			return nil
		}
		if errors.Is(err, store.ErrConflict) {
			return abandon(err)
		}
		// Any other failure may have come after the write took effect (an
		// answer lost on the way back): deleting the generation then would
		// pull the rows from under the new FIGURES. Look first.
		switch committed, lookErr := s.committed(ctx, t, id, gen); {
		case lookErr != nil:
			return err // unknown: the generation is left to the next sweep
		case !committed:
			return abandon(err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}

	// Step 6: the sweep. The commit stands whatever happens here: what is
	// not swept now is swept by the next ingest (store.SweepGenerations).
	known := map[int64]int{}
	if current != nil {
		known[current.Generation] = current.Shards
	}
	if err := s.store.SweepGenerations(ctx, t, id, gen, known); err != nil {
		s.cfg.Logger.Warn("old generations left for the next sweep",
			"tenant", t.ID(), "customer", id, "generation", gen, "error", err)
	}
	return expected + 1, nil
}

// committed reports whether FIGURES names generation gen, reading with a
// context of its own since the caller's may be what failed.
func (s *Service) committed(ctx context.Context, t license.Tenant, id string, gen int64) (bool, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	cf, err := s.store.Figures(cctx, t, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return cf.Generation == gen, nil
}

// replaced is the kind the commit records as replaced on purpose, or "".
func replaced(req Request, kind string) string {
	if req.Replace {
		return kind
	}
	return ""
}

// checkFresh refuses a users document older than the current users (the
// newest-wins rule), unless the partner replaces them on purpose. Only a
// plausible current date counts: one more than license.ReportDateSlackDays
// after today (accepted before dates were checked) is a mistake, and must
// not lock the customer against every real report.
func checkFresh(st *store.State, doc *source.Document, today license.Date, replace bool) error {
	if replace || st.Figures == nil || st.Figures.UsersKind == "" {
		return nil
	}
	cur, ok := st.Sources[st.Figures.UsersKind]
	if !ok || doc.ReportDate >= cur.ReportDate || license.CheckReportDate(cur.ReportDate, today) != nil {
		return nil
	}
	return fmt.Errorf("%w: the %s report of %s is older than the current users' %s report of %s; if the current one is wrong, send this one with ?replace=true",
		ErrStale, doc.Kind, doc.ReportDate, cur.Kind, cur.ReportDate)
}

// subscriptionSet is the accepted subscriptions of one kind, nil if none.
func subscriptionSet(sources map[string]store.SourceRecord, kind source.Kind) *license.SubscriptionSet {
	r, ok := sources[string(kind)]
	if !ok || !r.HasSubscriptions {
		return nil
	}
	return &license.SubscriptionSet{Subscriptions: r.Subscriptions, AcceptedAt: r.AcceptedAt}
}

// customer names the customer: the snapshot's customer, else the current
// figures', else the customer id.
func (s *Service) customer(id string, doc *source.Document, current *store.CustomerFigures) license.Customer {
	c := license.Customer{ID: id}
	if current != nil {
		c.Name, c.TenantID = current.Figures.Customer.Name, current.Figures.Customer.TenantID
	}
	if doc.Customer != nil {
		if doc.Customer.Name != "" {
			c.Name = doc.Customer.Name
		}
		if doc.Customer.TenantID != "" {
			c.TenantID = doc.Customer.TenantID
		}
	}
	if c.Name == "" {
		c.Name = id
	}
	return c
}

// reportDate is the date D of the figures: that of the document the users
// come from; with no users yet, the current figures' date, else today.
func reportDate(now time.Time, usersKind string, sources map[string]store.SourceRecord, current *store.CustomerFigures) license.Date {
	if r, ok := sources[usersKind]; ok && usersKind != "" && !r.ReportDate.IsZero() {
		return r.ReportDate
	}
	if current != nil && !current.Figures.ReportDate.IsZero() {
		return current.Figures.ReportDate
	}
	return license.DateOf(now)
}

// upsell reports whether deployment and usage (default window, rounded to
// one decimal as served) both reach the configured thresholds.
func (s *Service) upsell(f *license.Figures) bool {
	th := license.Thresholds{UpsellDeploymentPercent: s.cfg.UpsellDeploymentPercent, UpsellUsagePercent: s.cfg.UpsellUsagePercent}
	return th.IsUpsellCandidate(f)
}
