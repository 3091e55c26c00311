package license

import (
	"reflect"
	"testing"
)

func cpDate(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestIsCopilotSKU(t *testing.T) {
	for sku, want := range map[string]bool{
		"Microsoft_365_Copilot": true, "M365_COPILOT": true, "microsoft_365_copilot_edu": true,
		"Microsoft_Copilot_for_Sales": true, "MICROSOFT 365 COPILOT": true, " Microsoft Copilot for Microsoft 365 ": true,
		"SPE_E3": false, "VIRTUAL_AGENT_USL": false, "Microsoft_Copilot_for_Finance_trial": false, "": false,
	} {
		if got := IsCopilotSKU(sku); got != want {
			t.Errorf("IsCopilotSKU(%q) = %v, want %v", sku, got, want)
		}
	}
}

// The report date D is 2026-11-28 throughout. Worked by hand from docs/definitions.md#copilot:
//   - active in a window of N days: last Copilot activity > D − N, so for 28
//     days the dates 2026-11-01 … 2026-11-28 count and 2026-10-31 does not;
//   - new: assigned within 14 days, assigned > D − 14 = 2026-11-14;
//   - dormant: assigned more than 28 days ago (before D − 28 = 2026-10-31)
//     and not active in the window;
//   - never used: assigned, not new, no Copilot activity date at all.
func TestComputeCopilotFigures(t *testing.T) {
	d := cpDate(t, "2026-11-28")
	old := cpDate(t, "2026-01-10")
	lic := func(sku string, assigned Date) []License {
		return []License{{SKU: "SPE_E3", AssignedDate: old}, {SKU: sku, AssignedDate: assigned}}
	}
	users := []User{
		{Key: "ann@x.com", Licenses: lic("Microsoft_365_Copilot", old)},                     // active on the window's first day
		{Key: "bob@x.com", Licenses: lic("Microsoft_365_Copilot", old)},                     // last active one day before the window: dormant
		{Key: "cat@x.com", Licenses: lic("Microsoft_365_Copilot", old)},                     // in the report, no date at all: never used
		{Key: "dan@x.com", Licenses: lic("Microsoft_365_Copilot", cpDate(t, "2026-11-18"))}, // assigned 10 days ago, never active: new
		{Key: "eve@x.com", Licenses: lic("Microsoft_365_Copilot", cpDate(t, "2026-11-14"))}, // assigned 14 days ago: not new; not in the report: never used
		{Key: "fay@x.com", Licenses: lic("Microsoft_365_Copilot", cpDate(t, "2026-11-10"))}, // 18 days ago, inactive with an old date: neither new nor dormant
		{Key: "gus@x.com", Deleted: true, Licenses: lic("Microsoft_365_Copilot", old)},      // deleted: holds no seat
		{Key: "hal@x.com", Licenses: []License{{SKU: "SPE_E3", AssignedDate: old}}},         // no Copilot: not a seat, report row ignored
	}
	report := &CopilotReport{
		ReportDate: d, PeriodDays: 28, Apps: []string{"Teams", "Word"}, HasActiveDays: true,
		Users: []CopilotUser{
			{Key: "ANN@x.com", LastActivity: cpDate(t, "2026-11-01"), AppActivity: []Date{cpDate(t, "2026-11-01"), NoDate}, ActiveDays: 12},
			{Key: "bob@x.com", LastActivity: cpDate(t, "2026-10-31"), AppActivity: []Date{NoDate, cpDate(t, "2026-10-31")}, ActiveDays: 0},
			{Key: "cat@x.com", AppActivity: []Date{NoDate, NoDate}},
			{Key: "dan@x.com", AppActivity: []Date{NoDate, NoDate}},
			{Key: "fay@x.com", LastActivity: cpDate(t, "2026-09-01"), AppActivity: []Date{NoDate, cpDate(t, "2026-09-01")}, ActiveDays: 0},
			{Key: "hal@x.com", LastActivity: d, AppActivity: []Date{d, d}, ActiveDays: 20},
		},
	}
	subs := []Subscription{
		{ID: "c1", SKU: "Microsoft_365_Copilot", Quantity: 8, Status: StatusActive},
		{ID: "c2", SKU: "Microsoft_365_Copilot", Quantity: 5, Status: StatusActive, Trial: true}, // trial: not sold
		{ID: "e3", SKU: "SPE_E3", Quantity: 10, Status: StatusActive},
	}
	c := ComputeCopilot(CopilotInput{Subscriptions: subs, Users: users, Report: report})
	if c == nil {
		t.Fatal("no Copilot figures")
	}
	// Sold 8 (the trial does not count); assigned: ann bob cat dan eve fay = 6;
	// unassigned 8 − 6 = 2.
	if c.Sold != 8 || c.Assigned != 6 || c.Unassigned != 2 {
		t.Errorf("sold/assigned/unassigned = %d/%d/%d, want 8/6/2", c.Sold, c.Assigned, c.Unassigned)
	}
	// new: dan only (eve is exactly 14 days: not within the last 14).
	// never used: cat and eve (dan is new, not never used).
	if c.New != 1 || c.NeverUsed != 2 {
		t.Errorf("new/neverUsed = %d/%d, want 1/2", c.New, c.NeverUsed)
	}
	w, ok := c.Window(28)
	if !ok {
		t.Fatal("no 28-day window")
	}
	// active: ann (2026-11-01 is D−27). dormant (assigned before 2026-10-31,
	// not active): bob, cat; eve (assigned 2026-11-14) and fay (2026-11-10)
	// are not old enough. reclaimable: dormant ∪ never used = bob, cat, eve.
	if w.Active != 1 || w.Dormant != 2 || w.Reclaimable != 3 {
		t.Errorf("28 days: active/dormant/reclaimable = %d/%d/%d, want 1/2/3", w.Active, w.Dormant, w.Reclaimable)
	}
	// Teams: ann (11-01); Word: bob's 10-31 is outside.
	if len(w.Apps) != 2 || w.Apps[0] != 1 || w.Apps[1] != 0 {
		t.Errorf("28 days apps = %v, want [1 0]", w.Apps)
	}
	// 30 days (dates after 2026-10-29): ann and bob active; dormant: cat only;
	// Word: bob.
	w30, _ := c.Window(30)
	if w30.Active != 2 || w30.Dormant != 1 || w30.Reclaimable != 2 || w30.Apps[1] != 1 {
		t.Errorf("30 days: %+v, want active 2, dormant 1, reclaimable 2, Word 1", w30)
	}
	// habitual (≥ 10 active days): ann (12). hal is no seat holder.
	if h := c.Habitual(DefaultCopilotHabitualDays); h == nil || *h != 1 {
		t.Errorf("habitual = %v, want 1", h)
	}
	if h := c.Habitual(13); h == nil || *h != 0 {
		t.Errorf("habitual at 13 days = %v, want 0", h)
	}
	// Idle seats: 2 unassigned + 3 reclaimable.
	if got := c.IdleSeats(28); got != 5 {
		t.Errorf("idle seats = %d, want 5", got)
	}
}

// A v1 report has no active days: habitual use is unknown (null), not 0.
func TestComputeCopilotV1HasNoHabitual(t *testing.T) {
	d := cpDate(t, "2026-11-28")
	report := &CopilotReport{ReportDate: d, PeriodDays: 30, Apps: []string{"Teams"}, Users: []CopilotUser{
		{Key: "a@x.com", LastActivity: d, AppActivity: []Date{d}},
	}}
	c := ComputeCopilot(CopilotInput{Report: report})
	if c.Habitual(10) != nil {
		t.Errorf("habitual = %d, want null for a v1 report", *c.Habitual(10))
	}
	// No users document: the report's rows are the seat holders (Graph lists
	// only licensed users); their assign date is unknown, so none is new.
	w, _ := c.Window(28)
	if c.Assigned != 1 || c.New != 0 || w.Active != 1 || w.Reclaimable != 0 {
		t.Errorf("assigned %d new %d active %d reclaimable %d, want 1 0 1 0", c.Assigned, c.New, w.Active, w.Reclaimable)
	}
	// Active days for a 90-day period cannot say "10 of the last 28 days".
	report.HasActiveDays, report.PeriodDays = true, 90
	if h := ComputeCopilot(CopilotInput{Report: report}).Habitual(10); h != nil {
		t.Errorf("habitual from a 90-day period = %d, want null", *h)
	}
}

func TestComputeCopilotNone(t *testing.T) {
	users := []User{{Key: "a", Licenses: []License{{SKU: "SPE_E3"}}}}
	if c := ComputeCopilot(CopilotInput{Users: users, Subscriptions: []Subscription{{ID: "1", SKU: "SPE_E3", Quantity: 1, Status: StatusActive}}}); c != nil {
		t.Errorf("a customer without Copilot got %+v", c)
	}
	// Seats sold but no report yet: seat counts, no activity.
	c := ComputeCopilot(CopilotInput{Subscriptions: []Subscription{{ID: "1", SKU: "Microsoft_365_Copilot", Quantity: 3, Status: StatusActive}}})
	if c == nil || c.Sold != 3 || c.Unassigned != 3 || c.HasReport || c.Habitual(10) != nil {
		t.Errorf("sold-only Copilot figures = %+v", c)
	}
}

// Portfolio sums: counts add; removing a customer is the exact inverse of
// adding it; shard sums equal the sum over all customers.
func TestCopilotSums(t *testing.T) {
	a := &CopilotFigures{Sold: 10, Assigned: 8, Unassigned: 2, NeverUsed: 1, New: 1, HasReport: true,
		ActiveDays: make([]int, 29), Apps: []string{"teams", "word"},
		Windows: []CopilotWindow{{Days: 28, Active: 5, Dormant: 2, Reclaimable: 3, Apps: []int{4, 2}}}}
	a.ActiveDays[12] = 3
	b := &CopilotFigures{Sold: 4, Assigned: 4, HasReport: true, Apps: []string{"word", "loop"},
		Windows: []CopilotWindow{{Days: 28, Active: 1, Dormant: 3, Reclaimable: 3, Apps: []int{1, 1}}}}
	c := &CopilotFigures{Sold: 3, Unassigned: 3, Apps: []string{}, Windows: []CopilotWindow{{Days: 28, Apps: []int{}}}}
	var p *CopilotSums
	AddCopilot(&p, a, 1)
	AddCopilot(&p, b, 1)
	AddCopilot(&p, c, 1)
	AddCopilot(&p, nil, 1)
	f := p.Figures()
	w, _ := f.Window(28)
	// 10+4+3 sold, 8+4 assigned, 2+3 unassigned; active 5+1, dormant 2+3,
	// reclaimable 3+3.
	if f.Sold != 17 || f.Assigned != 12 || f.Unassigned != 5 || f.NeverUsed != 1 || f.New != 1 || !f.HasReport {
		t.Errorf("sums = %+v", f)
	}
	if w.Active != 6 || w.Dormant != 5 || w.Reclaimable != 6 || p.Customers != 3 || p.Reporting != 2 || p.ReportedAssigned != 12 {
		t.Errorf("window sums = %+v, sums %+v", w, p)
	}
	// Apps by most active: teams 4, word 2+1 = 3, loop 1.
	if len(f.Apps) != 3 || f.Apps[0] != "teams" || f.Apps[1] != "word" || f.Apps[2] != "loop" || w.Apps[0] != 4 || w.Apps[1] != 3 || w.Apps[2] != 1 {
		t.Errorf("apps %v %v", f.Apps, w.Apps)
	}
	// Habitual: a's 3 holders with 12 days; b's 4 seats unknown.
	if h := f.Habitual(10); h == nil || *h != 3 || f.ActiveDaysMissing != 4 {
		t.Errorf("habitual %v, missing %d; want 3 and 4", h, f.ActiveDaysMissing)
	}
	// Shards: {a} and {b, c} summed equal the whole.
	var s1, s2, total *CopilotSums
	AddCopilot(&s1, a, 1)
	AddCopilot(&s2, b, 1)
	AddCopilot(&s2, c, 1)
	SumCopilot(&total, s1)
	SumCopilot(&total, s2)
	if !reflect.DeepEqual(total, p) {
		t.Errorf("shard sums %+v, want %+v", total, p)
	}
	// Sub undoes Add, in any order, down to nothing.
	AddCopilot(&p, b, -1)
	var onlyAC *CopilotSums
	AddCopilot(&onlyAC, c, 1)
	AddCopilot(&onlyAC, a, 1)
	if !reflect.DeepEqual(p, onlyAC) {
		t.Errorf("after removing b: %+v, want %+v", p, onlyAC)
	}
	AddCopilot(&p, a, -1)
	AddCopilot(&p, c, -1)
	if p != nil {
		t.Errorf("empty portfolio keeps Copilot sums %+v", p)
	}
}

// A Copilot seat entitles to no Office workload: ann and bob hold E3, one
// E3 is sold, so bob (the newer licence) is uncounted; bob's counted
// Copilot seat must not make him entitled. Exchange: 1 entitlement (ann),
// 2 active → usage 200 %, 1 counted active; bob's activity is uncounted
// (inactiveSubscription: he holds licences, but only over-assigned E3).
func TestCopilotSeatEntitlesNoOfficeWorkload(t *testing.T) {
	d := cpDate(t, "2026-11-28")
	users := []User{
		{Key: "ann", Licenses: []License{{SKU: "SPE_E3", AssignedDate: d.AddDays(-300)}},
			Workloads: []WorkloadUse{{Workload: Exchange, Licensed: true, LastActivity: d}}},
		{Key: "bob", Licenses: []License{{SKU: "SPE_E3", AssignedDate: d.AddDays(-100)}, {SKU: "Microsoft_365_Copilot", AssignedDate: d.AddDays(-50)}},
			Workloads: []WorkloadUse{{Workload: Exchange, Licensed: true, LastActivity: d}}},
	}
	subs := []Subscription{
		{ID: "e3", SKU: "SPE_E3", Quantity: 1, Status: StatusActive},
		{ID: "cp", SKU: "Microsoft_365_Copilot", Quantity: 1, Status: StatusActive},
	}
	res := Compute(Input{ReportDate: d, Subscriptions: subs, Users: users})
	w, _ := res.Figures.Window(28)
	ex := w.Workloads[0]
	if ex.Workload != Exchange || ex.Entitlements != 1 || ex.Active != 2 || ex.CountedActive != 1 || ex.Uncounted.InactiveSubscription != 1 {
		t.Errorf("exchange = %+v, want 1 entitlement, 2 active, 1 counted, 1 inactiveSubscription", ex)
	}
	if !res.Entitled[0] || res.Entitled[1] {
		t.Errorf("entitled = %v, want [true false]", res.Entitled)
	}
}
