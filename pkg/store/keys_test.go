package store

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

func tenant(t testing.TB, id string) license.Tenant {
	t.Helper()
	tn, err := license.NewTenant(id)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func TestKeysRefuseZeroTenant(t *testing.T) {
	var zero license.Tenant
	d, _ := license.ParseDate("2026-11-20")
	builders := map[string]func() error{
		"CustomerPK":       func() error { _, err := CustomerPK(zero, "c1"); return err },
		"FiguresKey":       func() error { _, err := FiguresKey(zero, "c1"); return err },
		"SummaryKey":       func() error { _, err := SummaryKey(zero, "c1"); return err },
		"RankKey":          func() error { _, err := RankKey(zero, "c1"); return err },
		"SubscriptionsKey": func() error { _, err := SubscriptionsKey(zero, "c1"); return err },
		"GenCounterKey":    func() error { _, err := GenCounterKey(zero, "c1"); return err },
		"SourceKey":        func() error { _, err := SourceKey(zero, "c1", "snapshot"); return err },
		"DayKey":           func() error { _, err := DayKey(zero, "c1", d); return err },
		"GenerationPK":     func() error { _, err := GenerationPK(zero, "c1", 1, 0); return err },
		"PortfolioDayKey":  func() error { _, err := PortfolioDayKey(zero, d); return err },
		"ExportKey":        func() error { _, err := ExportKey(zero, "e1"); return err },
		"UploadKey":        func() error { _, err := UploadKey(zero, "u1"); return err },
		"NamePartition":    func() error { _, err := NamePartition(zero); return err },
		"UsagePartition":   func() error { _, err := UsagePartition(zero); return err },
		"DeployPartition":  func() error { _, err := DeploymentPartition(zero); return err },
		"Unassigned":       func() error { _, err := UnassignedPartition(zero); return err },
		"UpsellPartition":  func() error { _, err := UpsellPartition(zero); return err },
		"summaryIndexKeys": func() error { _, err := summaryIndexKeys(zero, "c1", "n", nil, nil); return err },
		"rankIndexKeys":    func() error { _, err := rankIndexKeys(zero, "c1", 1, nil, false); return err },
	}
	for name, build := range builders {
		if err := build(); !errors.Is(err, license.ErrNoTenant) {
			t.Errorf("%s with the zero tenant: err = %v, want ErrNoTenant", name, err)
		}
	}
}

func TestKeyShapes(t *testing.T) {
	tn := tenant(t, "contoso-partner")
	d, _ := license.ParseDate("2026-11-20")
	must := func(k Key, err error) Key {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	const pk = "T#contoso-partner#C#fabrikam"
	tests := []struct {
		got  Key
		want Key
	}{
		{must(FiguresKey(tn, "fabrikam")), Key{pk, "FIGURES"}},
		{must(SummaryKey(tn, "fabrikam")), Key{pk, "SUMMARY"}},
		{must(RankKey(tn, "fabrikam")), Key{pk, "RANK"}},
		{must(SubscriptionsKey(tn, "fabrikam")), Key{pk, "SUBSCRIPTIONS"}},
		{must(GenCounterKey(tn, "fabrikam")), Key{pk, "GENCOUNTER"}},
		{must(SourceKey(tn, "fabrikam", "graph-subscribed-skus")), Key{pk, "SOURCE#graph-subscribed-skus"}},
		{must(DayKey(tn, "fabrikam", d)), Key{pk, "DAY#2026-11-20"}},
		{must(PortfolioDayKey(tn, d)), Key{"T#contoso-partner", "PDAY#2026-11-20"}},
		{must(ExportKey(tn, "x1")), Key{"T#contoso-partner", "EXPORT#x1"}},
		{must(UploadKey(tn, "u1")), Key{"T#contoso-partner", "UPLOAD#u1"}},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("key %+v, want %+v", tt.got, tt.want)
		}
	}
	gpk, err := GenerationPK(tn, "fabrikam", 12, 5)
	if err != nil || gpk != pk+"#G#12#S#5" {
		t.Errorf("GenerationPK = %q, %v", gpk, err)
	}
}

func TestKeysRefuseBadIDs(t *testing.T) {
	tn := tenant(t, "p")
	for _, id := range []string{"", "a#b", "C#x", "has space", strings.Repeat("x", 129)} {
		if _, err := FiguresKey(tn, id); err == nil {
			t.Errorf("customer id %q accepted", id)
		}
	}
	if _, err := SourceKey(tn, "c", "a#b"); err == nil {
		t.Error("source kind with '#' accepted")
	}
	if _, err := DayKey(tn, "c", license.NoDate); err == nil {
		t.Error("history day without a date accepted")
	}
	if _, err := ExportKey(tn, "a#b"); err == nil {
		t.Error("export id with '#' accepted")
	}
	for _, c := range []struct {
		gen   int64
		shard int
	}{{0, 0}, {-1, 0}, {1, -1}, {1, MaxShards}} {
		if _, err := GenerationPK(tn, "c", c.gen, c.shard); err == nil {
			t.Errorf("generation %d shard %d accepted", c.gen, c.shard)
		}
	}
}

func TestUserSK(t *testing.T) {
	// A '#' in a user key stays inside the sort key: nothing is parsed
	// after the U# prefix, so the key comes back whole.
	for _, key := range []string{"alice@fabrikam.com", "a#b#c", "7A1F3E0C9B2D4E5F", "ü@例え.jp"} {
		sk, err := UserSK(key)
		if err != nil {
			t.Fatalf("UserSK(%q): %v", key, err)
		}
		if sk != "U#"+key {
			t.Errorf("UserSK(%q) = %q", key, sk)
		}
	}
	for _, key := range []string{"", strings.Repeat("k", maxUserKeyBytes+1), "bad\xff"} {
		if _, err := UserSK(key); err == nil {
			t.Errorf("UserSK(%.20q) accepted", key)
		}
	}
}

func TestShardsFor(t *testing.T) {
	for _, tt := range []struct{ users, want int }{
		{0, 1}, {1, 1}, {2000, 1}, {2001, 2}, {100_000, 50}, {128_000, 64}, {1_000_000, 64},
	} {
		if got := ShardsFor(tt.users); got != tt.want {
			t.Errorf("ShardsFor(%d) = %d, want %d", tt.users, got, tt.want)
		}
	}
}

// TestShardSpread: 64,000 keys over 64 shards should give about 1,000 each.
// A chi-square over 63 degrees of freedom is below 110 with probability
// above 99.97 %; the keys are fixed, so the outcome is too.
func TestShardSpread(t *testing.T) {
	const shards, n = 64, 64_000
	counts := make([]int, shards)
	for i := range n {
		s := ShardOf(fmt.Sprintf("user%05d@tenant%d.example.com", i, i%7), shards)
		if s < 0 || s >= shards {
			t.Fatalf("shard %d out of range", s)
		}
		counts[s]++
	}
	expected := float64(n) / shards
	chi := 0.0
	for _, c := range counts {
		chi += math.Pow(float64(c)-expected, 2) / expected
	}
	if chi > 110 {
		t.Errorf("keys spread unevenly over shards: chi-square %.1f, counts %v", chi, counts)
	}
	if ShardOf("anyone", 1) != 0 || ShardOf("anyone", 0) != 0 {
		t.Error("one shard (or none) must be shard 0")
	}
	// Stable across releases: generations written by one build are read
	// and deleted by the next. FNV-1a 32 of "alice", worked out from the
	// published algorithm (offset basis 0x811c9dc5, prime 0x01000193) is
	// 0x872213e7 = 2267157479, and 2267157479 mod 64 = 39.
	if got := ShardOf("alice", 64); got != 39 {
		t.Errorf("ShardOf(alice, 64) = %d, want 39", got)
	}
}

func TestIndexSortKeys(t *testing.T) {
	tn := tenant(t, "p")
	pct := func(v float64) *float64 { return &v }
	keys, err := summaryIndexKeys(tn, "c1", "Fabrikam Inc", pct(70.5), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []IndexKey{
		{IndexGSI1, "T#p#NAME", "fabrikam inc#c1"},
		{IndexGSI2, "T#p#USAGE", "1#0000705#c1"},
		{IndexGSI3, "T#p#DEPLOY", "2#c1"},
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Errorf("summary index key %d = %+v, want %+v", i, keys[i], want[i])
		}
	}
	// Ordering: 9.5 % < 70.5 % < 140 % < unknown, as strings.
	order := []string{percentSortKey(pct(9.5)), percentSortKey(pct(70.5)), percentSortKey(pct(140)), percentSortKey(nil)}
	for i := 1; i < len(order); i++ {
		if order[i-1] >= order[i] {
			t.Errorf("percent sort keys out of order: %q !< %q", order[i-1], order[i])
		}
	}

	// Rank: inverted, so ascending reads the biggest first; sparse.
	keys, _ = rankIndexKeys(tn, "c1", 12, pct(95), true)
	want = []IndexKey{
		{IndexGSI1, "T#p#UNASSIGNED", "9999999987#c1"},
		{IndexGSI2, "T#p#UPSELL", "9999049#c1"},
	}
	if len(keys) != 2 || keys[0] != want[0] || keys[1] != want[1] {
		t.Errorf("rank keys = %+v, want %+v", keys, want)
	}
	if keys, _ := rankIndexKeys(tn, "c1", 0, pct(95), false); len(keys) != 0 {
		t.Errorf("no unassigned, no upsell: rank keys = %+v, want none", keys)
	}
	more, _ := rankIndexKeys(tn, "c2", 500, nil, false)
	fewer, _ := rankIndexKeys(tn, "c3", 3, nil, false)
	if more[0].SK >= fewer[0].SK {
		t.Errorf("500 unassigned (%q) should sort before 3 (%q)", more[0].SK, fewer[0].SK)
	}

	long := strings.Repeat("é", 300) // 600 bytes
	if k := nameSortKey(long); len(k) > maxNameKeyBytes || !strings.HasPrefix(long, k) {
		t.Errorf("long name cut to %d bytes, not a prefix on a rune boundary", len(k))
	}
}
