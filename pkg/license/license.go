// Package license is the domain of License Insights: subscriptions, users,
// licences, workloads and every figure of docs/definitions.md#figures computed from them.
//
// It imports nothing of the project and no infrastructure: parsers
// (pkg/source), storage (pkg/store) and handlers (functions/*) depend on it,
// never the other way round.
//
// Counts are kept as integers everywhere; percentages are derived from the
// counts only at the edge (see Percent), so that portfolio figures are sums of
// customers' counts and never averages of percentages.
package license

import (
	"fmt"
	"time"
)

// Date is a calendar day, counted in days since 1970-01-01.
// The zero Date means "no date": Microsoft 365 has no activity or licence
// dates in 1970, so the zero value is free to stand for an empty cell.
type Date int32

// NoDate is the zero Date: an absent or empty date.
const NoDate Date = 0

const dateLayout = "2006-01-02"

// ParseDate reads a YYYY-MM-DD date. An empty string is NoDate.
func ParseDate(s string) (Date, error) {
	if s == "" {
		return NoDate, nil
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return NoDate, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf is the calendar day of t in UTC.
func DateOf(t time.Time) Date {
	t = t.UTC()
	return Date(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// IsZero reports whether d is NoDate.
func (d Date) IsZero() bool { return d == NoDate }

// Time is midnight UTC of d.
func (d Date) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// AddDays is d moved by n days.
func (d Date) AddDays(n int) Date { return d + Date(n) }

// ReportDateSlackDays is how far after today (UTC) a report date may lie:
// a tenant's day can run ahead of UTC, a report may be produced in the
// evening of its refresh date, and clocks drift, but a report further
// ahead describes a day that has not come.
const ReportDateSlackDays = 2

// CheckReportDate refuses a report date more than ReportDateSlackDays after
// today: such a date is a mistake (2099-12-31, a swapped year), and taken
// as the newest document it would make every real report look older and be
// refused.
func CheckReportDate(d, today Date) error {
	if latest := today.AddDays(ReportDateSlackDays); d > latest {
		return fmt.Errorf("%s is in the future: a report date may be at most %d days after today (%s UTC), so at most %s; send the report with the date its source gave it", d, ReportDateSlackDays, today, latest)
	}
	return nil
}

// String is YYYY-MM-DD, or "" for NoDate.
func (d Date) String() string {
	if d == NoDate {
		return ""
	}
	return d.Time().Format(dateLayout)
}

// MarshalText writes YYYY-MM-DD (empty for NoDate).
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads YYYY-MM-DD (empty for NoDate).
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Channel says who sold a subscription.
type Channel string

// The channels of docs/definitions.md#figures.
const (
	ChannelOwn     Channel = "own"     // this partner
	ChannelPartner Channel = "partner" // another CSP partner
	ChannelDirect  Channel = "direct"  // bought from Microsoft
	ChannelUnknown Channel = "unknown"
)

// Channels lists every channel in the order responses show them.
var Channels = []Channel{ChannelOwn, ChannelPartner, ChannelDirect, ChannelUnknown}

// Valid reports whether c is one of Channels.
func (c Channel) Valid() bool {
	switch c {
	case ChannelOwn, ChannelPartner, ChannelDirect, ChannelUnknown:
		return true
	}
	return false
}

// Status is a subscription's lifecycle state.
type Status string

// The statuses of docs/definitions.md#figures. Only StatusActive capacity is counted.
const (
	StatusActive    Status = "active"
	StatusGrace     Status = "grace"
	StatusDisabled  Status = "disabled"
	StatusSuspended Status = "suspended"
	StatusCancelled Status = "cancelled"
	StatusDeleted   Status = "deleted"
	StatusExpired   Status = "expired"
)

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	switch s {
	case StatusActive, StatusGrace, StatusDisabled, StatusSuspended, StatusCancelled, StatusDeleted, StatusExpired:
		return true
	}
	return false
}

// Subscription is one purchase of a SKU.
type Subscription struct {
	ID       string  `json:"id"`
	SKU      string  `json:"sku"`  // SKU part number, e.g. SPE_E3
	Name     string  `json:"name"` // product name, e.g. Microsoft 365 E3
	Quantity int     `json:"quantity"`
	Status   Status  `json:"status"`
	Trial    bool    `json:"trial"`
	Channel  Channel `json:"channel"`
	// RenewalDate is the renewal or next lifecycle date, NoDate when no
	// source gives one.
	RenewalDate Date `json:"renewalDate,omitempty"`
	// AutoRenew, TermDuration (ISO 8601, e.g. P1Y), BillingCycle and
	// CancellableUntil are what Partner Center says of the renewal; nil,
	// "" and NoDate when no source gives them.
	AutoRenew        *bool  `json:"autoRenew,omitempty"`
	TermDuration     string `json:"termDuration,omitempty"`
	BillingCycle     string `json:"billingCycle,omitempty"`
	CancellableUntil Date   `json:"cancellableUntil,omitempty"`
	// Pending: Partner Center's order is not yet provisioned; its dates are
	// not renewals (docs/definitions.md#renewals).
	Pending bool `json:"pending,omitempty"`
	// Company: Graph's subscribedSkus marks the SKU appliesTo "Company", a
	// tenant-level capacity rather than a per-user licence, which makes it
	// an excluded product (docs/definitions.md#figures).
	Company bool `json:"company,omitempty"`
}

// Counted reports whether the subscription's capacity is counted as sold:
// active and not a trial (docs/definitions.md#figures).
func (s Subscription) Counted() bool { return s.Status == StatusActive && !s.Trial }

// Workload is a service whose licensing and activity are measured.
type Workload string

// The standard workloads. OneDrive has no Workload of its own: it is counted
// jointly with SharePoint (see NormalizeWorkload).
const (
	Exchange   Workload = "exchange"
	SharePoint Workload = "sharepoint"
	Teams      Workload = "teams"
	Yammer     Workload = "yammer"
	Skype      Workload = "skype"
)

// StandardWorkloads are always reported, in this order; further workloads a
// source reports follow in name order.
var StandardWorkloads = []Workload{Exchange, SharePoint, Teams, Yammer, Skype}

// DefaultRetiredWorkloads are the workloads reported but kept out of every
// overall figure (docs/definitions.md#entitlements-and-usage): Microsoft retired Skype for Business
// Online on 2021-07-31, yet suites still report its licence flag, which
// would make a fifth of all entitlements with no activity.
var DefaultRetiredWorkloads = []Workload{Skype}

// WorkloadsOf normalises names into Workloads (nil stays nil, so the
// default applies; an empty list stays empty).
func WorkloadsOf(names []string) []Workload {
	if names == nil {
		return nil
	}
	out := make([]Workload, 0, len(names))
	for _, n := range names {
		out = append(out, NormalizeWorkload(n))
	}
	return out
}

// NormalizeWorkload maps a source's workload name to the Workload it counts
// towards: "onedrive" merges into SharePoint, names are lower-cased.
func NormalizeWorkload(name string) Workload {
	w := Workload(lower(name))
	switch w {
	case "onedrive", "onedriveforbusiness":
		return SharePoint
	case "skypeforbusiness":
		return Skype
	}
	return w
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Licence is one SKU assigned to a user.
type License struct {
	SKU          string `json:"sku"`
	AssignedDate Date   `json:"assignedDate,omitempty"`
}

// WorkloadUse is one user's licensing and last activity in one workload.
type WorkloadUse struct {
	Workload     Workload `json:"workload"`
	Licensed     bool     `json:"licensed"`
	LastActivity Date     `json:"lastActivity,omitempty"`
}

// User is one user of a customer's tenant.
type User struct {
	Key         string    `json:"key"` // UPN, or the concealed hash Graph reports
	DisplayName string    `json:"displayName"`
	Deleted     bool      `json:"deleted"`
	Licenses    []License `json:"licences"`
	// Workloads holds at most one entry per Workload, after merging
	// (OneDrive into SharePoint: licensed if either is, newest activity).
	Workloads []WorkloadUse `json:"workloads"`
}

// Use is the user's entry for w, and whether there is one.
func (u *User) Use(w Workload) (WorkloadUse, bool) {
	for _, x := range u.Workloads {
		if x.Workload == w {
			return x, true
		}
	}
	return WorkloadUse{}, false
}

// MergeUse records licensing and activity for w, merging with what the user
// already has for w: licensed if either is, the later activity date wins.
// This is how OneDrive joins SharePoint.
func (u *User) MergeUse(use WorkloadUse) {
	for i := range u.Workloads {
		if u.Workloads[i].Workload == use.Workload {
			x := &u.Workloads[i]
			x.Licensed = x.Licensed || use.Licensed
			if use.LastActivity > x.LastActivity {
				x.LastActivity = use.LastActivity
			}
			return
		}
	}
	u.Workloads = append(u.Workloads, use)
}

// Customer identifies one of the partner's customers.
type Customer struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TenantID string `json:"tenantId,omitempty"` // the customer's Entra tenant id
}

// Support is the optional help-desk demand a snapshot may carry, which
// drives the "heavy how-to demand" recommendation.
type Support struct {
	HowToTickets int `json:"howToTickets"` // how-to / help requests in the window
	Tickets      int `json:"tickets"`      // all requests in the window
	WindowDays   int `json:"windowDays"`
}

// Windows are the activity windows, in days, that figures are computed for.
// DefaultWindow is the one served when none is asked for.
var Windows = []int{7, 28, 30, 90, 180}

// DefaultWindow is the default activity window (docs/definitions.md#figures).
const DefaultWindow = 28

// ValidWindow reports whether n is one of Windows.
func ValidWindow(n int) bool {
	for _, w := range Windows {
		if w == n {
			return true
		}
	}
	return false
}

// Active reports whether a last activity date falls within the window of n
// days ending on the report date d: lastActivity > d − n days, so with n=28
// the dates d−27 … d count (docs/definitions.md#figures).
func Active(last, d Date, n int) bool {
	return last != NoDate && last > d.AddDays(-n)
}
