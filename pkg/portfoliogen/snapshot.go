package portfoliogen

import (
	"io"
	"slices"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// SnapshotSchema is the native snapshot's schema name (docs/definitions.md#the-native-snapshot).
const SnapshotSchema = "license-snapshot/v1"

// WriteSnapshot streams the customer's native snapshot (license-snapshot/v1,
// docs/definitions.md#the-native-snapshot): every subscription with its channel and trial flag, and every
// user with licences, assign dates and the six workloads of the Graph report.
// Users come one per line, so that the file reads well in a pager.
func WriteSnapshot(w io.Writer, cfg Config, c CustomerSpec) error {
	if cfg.ReportDate.IsZero() {
		return errNoReportDate
	}
	p := newPlan(cfg, c)
	o := newOutput(w)

	b := append(o.buf, `{"schema":"`+SnapshotSchema+`","customer":{"id":`...)
	b = appendJSONString(b, c.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, c.Name)
	b = append(b, `,"tenantId":`...)
	b = appendJSONString(b, c.TenantID)
	b = append(b, "},\n\"reportDate\":"...)
	b = appendJSONDate(b, p.date)
	b = append(b, ",\n\"subscriptions\":["...)
	for i, s := range p.subs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n{\"id\":"...)
		b = appendJSONString(b, s.ID)
		b = append(b, `,"sku":`...)
		b = appendJSONString(b, s.SKU)
		b = append(b, `,"name":`...)
		b = appendJSONString(b, s.Name)
		b = append(b, `,"quantity":`...)
		b = appendJSONInt(b, s.Quantity)
		b = append(b, `,"status":`...)
		b = appendJSONString(b, string(s.Status))
		b = append(b, `,"trial":`...)
		b = appendJSONBool(b, s.Trial)
		b = append(b, `,"channel":`...)
		b = appendJSONString(b, string(s.Channel))
		b = append(b, `,"renewalDate":`...)
		b = appendJSONDate(b, s.RenewalDate)
		b = append(b, '}')
	}
	b = append(b, "],\n\"support\":{\"howToTickets\":"...)
	b = appendJSONInt(b, p.support.HowToTickets)
	b = append(b, `,"tickets":`...)
	b = appendJSONInt(b, p.support.Tickets)
	b = append(b, `,"windowDays":`...)
	b = appendJSONInt(b, p.support.WindowDays)
	b = append(b, "},\n\"users\":["...)
	o.emit(b)

	s := newUserStream()
	var u person
	for i := range max(c.Users, 0) {
		if o.err != nil {
			break
		}
		p.user(i, s, &u)
		b := o.buf
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSnapshotUser(append(b, '\n'), &u)
		o.emit(b)
	}
	o.emit(append(o.buf, "\n]}\n"...))
	return o.close()
}

func appendSnapshotUser(b []byte, u *person) []byte {
	b = append(b, `{"key":`...)
	b = appendJSONString(b, u.Key)
	b = append(b, `,"displayName":`...)
	b = appendJSONString(b, u.DisplayName)
	b = append(b, `,"deleted":`...)
	b = appendJSONBool(b, u.Deleted)
	if u.Deleted {
		b = append(b, `,"deletedDate":`...)
		b = appendJSONDate(b, u.DeletedDate)
	}
	b = append(b, `,"licenses":[`...)
	for i, l := range u.Licenses() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"sku":`...)
		b = appendJSONString(b, products[l.product].SKU)
		b = append(b, `,"assignedDate":`...)
		b = appendJSONDate(b, l.assigned)
		b = append(b, '}')
	}
	b = append(b, `],"workloads":{`...)
	for i, w := range snapshotWorkloadOrder {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, workloadNames[w])
		b = append(b, `:{"licensed":`...)
		b = appendJSONBool(b, u.Licensed[w])
		b = append(b, `,"lastActivity":`...)
		b = appendJSONDate(b, u.LastActivity[w])
		b = append(b, '}')
	}
	return append(b, "}}"...)
}

// Subscriptions are the customer's subscriptions, as its snapshot states
// them (the other formats show the same purchases in their own terms).
// Their dates count from cfg.ReportDate, which should be set.
func Subscriptions(cfg Config, c CustomerSpec) []license.Subscription {
	p := newPlan(cfg, c)
	out := make([]license.Subscription, len(p.subs))
	for i, s := range p.subs {
		out[i] = s.Subscription
	}
	return out
}

// Users are every user of the customer (EachUser's), each its own copy:
// for tests that keep them all.
func Users(cfg Config, c CustomerSpec) ([]license.User, error) {
	var out []license.User
	err := EachUser(cfg, c, func(u *license.User) error {
		cp := *u
		cp.Licenses, cp.Workloads = slices.Clone(u.Licenses), slices.Clone(u.Workloads)
		out = append(out, cp)
		return nil
	})
	return out, err
}

// Figures are the customer's figures as license.Compute makes them of its
// subscriptions and users on date d, under the default rules: the expected
// figures of tests, worked out without parsing a document.
func Figures(cfg Config, c CustomerSpec, d license.Date) (*license.Figures, error) {
	users, err := Users(cfg, c)
	if err != nil {
		return nil, err
	}
	res := license.Compute(license.Input{
		Customer: license.Customer{ID: c.ID, Name: c.Name, TenantID: c.TenantID}, ReportDate: d,
		Subscriptions: Subscriptions(cfg, c), Users: users,
	})
	return &res.Figures, nil
}

// AllFigures are the Figures of every customer of cfg on its report date.
func AllFigures(cfg Config) ([]*license.Figures, error) {
	var out []*license.Figures
	for _, c := range Customers(cfg) {
		f, err := Figures(cfg, c, cfg.ReportDate)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// EachUser calls fn with every user of the customer as the domain sees it,
// in the order of the documents, and stops at fn's first error. The User is
// reused between calls: copy what you keep. This is the ground truth the
// documents are written from, for tests and benchmarks that want expected
// figures without parsing.
func EachUser(cfg Config, c CustomerSpec, fn func(*license.User) error) error {
	if cfg.ReportDate.IsZero() {
		return errNoReportDate
	}
	p := newPlan(cfg, c)
	s := newUserStream()
	var (
		u  person
		lu license.User
	)
	for i := range max(c.Users, 0) {
		p.user(i, s, &u)
		lu = license.User{
			Key:         u.Key,
			DisplayName: u.DisplayName,
			Deleted:     u.Deleted,
			Licenses:    lu.Licenses[:0],
			Workloads:   lu.Workloads[:0],
		}
		for _, l := range u.Licenses() {
			lu.Licenses = append(lu.Licenses, license.License{SKU: products[l.product].SKU, AssignedDate: l.assigned})
		}
		for _, w := range snapshotWorkloadOrder {
			lu.MergeUse(license.WorkloadUse{
				Workload:     license.NormalizeWorkload(workloadNames[w]),
				Licensed:     u.Licensed[w],
				LastActivity: u.LastActivity[w],
			})
		}
		if err := fn(&lu); err != nil {
			return err
		}
	}
	return nil
}
