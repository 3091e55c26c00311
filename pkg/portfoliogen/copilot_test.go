package portfoliogen_test

import (
	"bytes"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
	"github.com/licenseinsights/licenseinsights/pkg/source"
)

// Some customers hold Copilot seats, and their use is realistic: the report
// parses with pkg/source, lists exactly the seat holders, and across the
// portfolio there are habitual, dormant, never-used and new seats.
func TestCopilotIsRealistic(t *testing.T) {
	cfg := config(1, 60, 150)
	var total license.CopilotFigures
	withCopilot, habitual := 0, 0
	for _, c := range portfoliogen.Customers(cfg) {
		subs := portfoliogen.Subscriptions(cfg, c)
		var users []license.User
		if err := portfoliogen.EachUser(cfg, c, func(u *license.User) error {
			cp := *u // EachUser reuses its slices
			cp.Licenses = append([]license.License(nil), u.Licenses...)
			users = append(users, cp)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !portfoliogen.HasCopilot(cfg, c) {
			if f := license.ComputeCopilot(license.CopilotInput{Subscriptions: subs, Users: users}); f != nil {
				t.Errorf("%s has no Copilot but Copilot figures %+v", c.ID, f)
			}
			continue
		}
		withCopilot++
		var doc bytes.Buffer
		if err := portfoliogen.Write(&doc, portfoliogen.KindGraphCopilotUsage, cfg, c); err != nil {
			t.Fatal(err)
		}
		if k, err := source.Detect(doc.Bytes()); err != nil || k != source.KindCopilotUsage {
			t.Fatalf("%s: the Copilot report is detected as %q (%v)", c.ID, k, err)
		}
		parsed, err := source.Parse(bytes.NewReader(doc.Bytes()), source.KindCopilotUsage, source.Options{}, nil)
		if err != nil {
			t.Fatalf("%s: the Copilot report does not parse: %v", c.ID, err)
		}
		f := license.ComputeCopilot(license.CopilotInput{Subscriptions: subs, Users: users, Report: parsed.Copilot})
		if f == nil || f.Assigned != len(parsed.Copilot.Users) || f.Sold < f.Assigned || parsed.Copilot.ReportDate != cfg.ReportDate {
			t.Fatalf("%s: figures %+v from a report of %d rows", c.ID, f, len(parsed.Copilot.Users))
		}
		w, _ := f.Window(28)
		total.Assigned += f.Assigned
		total.Unassigned += f.Unassigned
		total.NeverUsed += f.NeverUsed
		total.New += f.New
		habitual += *f.Habitual(10)
		total.Windows = append(total.Windows, w)
	}
	active, dormant := 0, 0
	for _, w := range total.Windows {
		active += w.Active
		dormant += w.Dormant
	}
	t.Logf("%d customers with Copilot: %d seats held, %d unassigned, %d active, %d habitual, %d dormant, %d never used, %d new",
		withCopilot, total.Assigned, total.Unassigned, active, habitual, dormant, total.NeverUsed, total.New)
	if withCopilot < 5 || withCopilot > 40 {
		t.Errorf("%d of 60 customers hold Copilot, want about a third", withCopilot)
	}
	if total.NeverUsed == 0 || total.New == 0 || dormant == 0 || habitual == 0 || total.Unassigned == 0 || active <= habitual {
		t.Error("the portfolio lacks never-used, new, dormant, habitual, occasional or unassigned Copilot seats")
	}
}
