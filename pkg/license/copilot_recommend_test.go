package license

import (
	"strings"
	"testing"
)

func copilotWith(assigned, unassigned, active, dormant, reclaimable, neverUsed, isNew int, activeDays []int) *CopilotFigures {
	return &CopilotFigures{HasReport: true, Sold: assigned + unassigned, Assigned: assigned, Unassigned: unassigned,
		NeverUsed: neverUsed, New: isNew, ActiveDays: activeDays, Apps: []string{},
		Windows: []CopilotWindow{{Days: 28, Active: active, Dormant: dormant, Reclaimable: reclaimable, Apps: []int{}}}}
}

func codes(rs []Recommendation) string {
	var c []string
	for _, r := range rs {
		c = append(c, r.Code)
	}
	return strings.Join(c, ",")
}

func TestRecommendCopilot(t *testing.T) {
	th := Thresholds{LowUsagePercent: 50, MinReclaim: 1}
	habitual := func(n int) []int { d := make([]int, 29); d[15] = n; return d }
	t.Run("reclaim and training, priced", func(t *testing.T) {
		// 10 seats: 3 active (30 % < 50 %), 5 reclaimable (4 dormant, 2 never
		// used, one of them dormant too), 2 new spared. 5 × 30 = 150 a month.
		c := copilotWith(10, 0, 3, 4, 5, 2, 2, nil)
		rs := RecommendCopilot(CopilotRecommendInput{CustomerName: "Fabrikam", Copilot: c, Window: 28, HabitualDays: 10, MonthlyPrice: 30, Currency: "USD"}, th)
		if codes(rs) != "copilot-reclaim,copilot-training" {
			t.Fatalf("codes = %s", codes(rs))
		}
		ev := rs[0].Evidence
		if ev["reclaimable"] != 5 || ev["dormant"] != 4 || ev["neverUsed"] != 2 || ev["newSeats"] != 2 || ev["monthlyCost"] != 150.0 {
			t.Errorf("reclaim evidence = %v", ev)
		}
		if !strings.Contains(rs[0].Message, "USD 150.00 a month") || !strings.Contains(rs[0].Message, "2 seats assigned in the last 14 days are left out") {
			t.Errorf("reclaim message = %s", rs[0].Message)
		}
		if ev := rs[1].Evidence; ev["activePercent"] != 30.0 || ev["active"] != 3 || ev["seatsAssigned"] != 10 {
			t.Errorf("training evidence = %v", ev)
		}
	})
	t.Run("every seat habitual", func(t *testing.T) {
		c := copilotWith(4, 0, 4, 0, 0, 0, 0, habitual(4))
		rs := RecommendCopilot(CopilotRecommendInput{CustomerName: "A", Copilot: c, Window: 28, HabitualDays: 10}, th)
		if codes(rs) != "copilot-more-seats" || rs[0].Evidence["habitual"] != 4 {
			t.Fatalf("got %s %v", codes(rs), rs)
		}
		// A free seat, or one holder short of habitual, is no call for more.
		c.Unassigned = 1
		if rs := RecommendCopilot(CopilotRecommendInput{Copilot: c, Window: 28, HabitualDays: 10}, th); len(rs) != 0 {
			t.Errorf("with a free seat: %s", codes(rs))
		}
		c.Unassigned = 0
		if rs := RecommendCopilot(CopilotRecommendInput{Copilot: c, Window: 28, HabitualDays: 16}, th); len(rs) != 0 {
			t.Errorf("15 active days against 16: %s", codes(rs))
		}
	})
	t.Run("new seats only: nothing to reclaim", func(t *testing.T) {
		// 2 seats, both new and unused: not reclaimable, and too new for
		// 0 % active to call for training.
		c := copilotWith(2, 0, 0, 0, 0, 0, 2, nil)
		if rs := RecommendCopilot(CopilotRecommendInput{Copilot: c, Window: 28, HabitualDays: 10}, th); codes(rs) != "" {
			t.Errorf("codes = %s", codes(rs))
		}
	})
	t.Run("no report", func(t *testing.T) {
		c := copilotWith(2, 0, 0, 0, 0, 0, 0, nil)
		c.HasReport = false
		if rs := RecommendCopilot(CopilotRecommendInput{Copilot: c, Window: 28}, th); rs == nil || len(rs) != 0 {
			t.Errorf("got %v", rs)
		}
	})
}
