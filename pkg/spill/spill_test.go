package spill

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/internal/goroutinetest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

func sampleUsers(n int) []license.User {
	users := make([]license.User, n)
	for i := range users {
		u := license.User{Key: fmt.Sprintf("user%05d@contoso.example", i), DisplayName: fmt.Sprintf("Üser %d", i), Deleted: i%7 == 3}
		for j := range i % 4 {
			u.Licenses = append(u.Licenses, license.License{SKU: []string{"SPE_E3", "POWER_BI_PRO", "MICROSOFT 365 E5", "FLOW_FREE"}[j], AssignedDate: license.Date(19_000 + i%300 - j)})
		}
		for j := range i % 6 {
			u.Workloads = append(u.Workloads, license.WorkloadUse{Workload: license.StandardWorkloads[j%5], Licensed: (i+j)%2 == 0, LastActivity: license.Date((20_400 + i - j) * (i % 3 % 2))})
		}
		users[i] = u
	}
	users[0].Key, users[0].DisplayName = "", "" // empty strings round-trip too
	return users
}

// collect replays s, deep-copying each reused user.
func collect(t *testing.T, s *Users, keys bool) []license.User {
	t.Helper()
	var out []license.User
	err := s.Replay(keys, func(u *license.User) error {
		c := *u
		c.Licenses = append([]license.License(nil), u.Licenses...)
		c.Workloads = append([]license.WorkloadUse(nil), u.Workloads...)
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// normal makes nil and empty slices alike, as a replay reuses its slices.
func normal(users []license.User) []license.User {
	out := make([]license.User, len(users))
	for i, u := range users {
		if len(u.Licenses) == 0 {
			u.Licenses = nil
		}
		if len(u.Workloads) == 0 {
			u.Workloads = nil
		}
		out[i] = u
	}
	return out
}

func TestRoundTripInMemoryAndOnDisk(t *testing.T) {
	users := sampleUsers(3000)
	for _, memory := range []int{1 << 30, 4 << 10} {
		s := New(t.TempDir(), memory)
		for i := range users {
			if err := s.Add(&users[i]); err != nil {
				t.Fatal(err)
			}
		}
		if s.Len() != len(users) {
			t.Fatalf("Len %d, want %d", s.Len(), len(users))
		}
		if wantDisk := memory < 1<<20; s.OnDisk() != wantDisk {
			t.Fatalf("memory %d: on disk %v, want %v (size %d)", memory, s.OnDisk(), wantDisk, s.Size())
		}
		for round := range 2 { // replays repeat
			if got := normal(collect(t, s, true)); !reflect.DeepEqual(got, normal(users)) {
				t.Fatalf("memory %d, replay %d: users differ after the round trip", memory, round+1)
			}
		}
		noKeys := collect(t, s, false)
		for i, u := range noKeys {
			if u.Key != "" || u.DisplayName != "" || len(u.Licenses) != len(users[i].Licenses) || u.Deleted != users[i].Deleted {
				t.Fatalf("without keys, user %d is %+v", i, u)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if s.Len() != 0 {
			t.Fatalf("after Close, Len %d", s.Len())
		}
	}
}

func TestMapResolvesEachNameOnce(t *testing.T) {
	users := sampleUsers(500)
	s := New("", 0)
	for i := range users {
		if err := s.Add(&users[i]); err != nil {
			t.Fatal(err)
		}
	}
	calls := 0
	s.Map(func(sku string) string {
		calls++
		return strings.ReplaceAll(strings.ToUpper(sku), " ", "_")
	})
	if calls != 3 { // users hold up to three of the four names: the first three
		t.Errorf("the mapping was called %d times for 3 distinct SKUs", calls)
	}
	for i, u := range collect(t, s, false) {
		for j, l := range u.Licenses {
			if want := strings.ReplaceAll(users[i].Licenses[j].SKU, " ", "_"); l.SKU != want {
				t.Fatalf("user %d licence %d: %q, want %q", i, j, l.SKU, want)
			}
		}
	}
	s.Map(nil) // back to the SKUs as written
	if got := collect(t, s, true); got[3].Licenses[2].SKU != "MICROSOFT 365 E5" {
		t.Errorf("after Map(nil): %q", got[3].Licenses[2].SKU)
	}
}

func TestReplayStopsAtTheFirstError(t *testing.T) {
	users := sampleUsers(10)
	s := New("", 0)
	for i := range users {
		_ = s.Add(&users[i])
	}
	stop := errors.New("stop")
	n := 0
	err := s.Replay(true, func(*license.User) error {
		n++
		if n == 4 {
			return stop
		}
		return nil
	})
	if err != stop || n != 4 {
		t.Errorf("replay gave %v after %d users; want the callback's error after 4", err, n)
	}
}

func TestNoDiskSaysWhatToDo(t *testing.T) {
	s := New("/nonexistent/spill-dir", 16)
	users := sampleUsers(10)
	var err error
	for i := range users {
		if err = s.Add(&users[i]); err != nil {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "ephemeral storage") {
		t.Fatalf("error %v; want one naming the ephemeral storage", err)
	}
	if again := s.Add(&users[0]); again == nil {
		t.Error("a failed set accepted another user")
	}
	if rerr := s.Replay(true, func(*license.User) error { return nil }); rerr == nil {
		t.Error("a failed set replayed")
	}
}

func TestTruncatedSpillIsAnError(t *testing.T) {
	users := sampleUsers(50)
	s := New("", 0)
	for i := range users {
		_ = s.Add(&users[i])
	}
	s.buf.Truncate(s.buf.Len() - 3)
	err := s.Replay(true, func(*license.User) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "user 50 of 50") {
		t.Errorf("error %v; want one naming the last user", err)
	}
}

// BenchmarkAddAndReplay writes 100,000 users and replays them as the engine
// does (a census without keys, a count with them); MB/s is encoded bytes.
func BenchmarkAddAndReplay(b *testing.B) {
	users := sampleUsers(100_000)
	var size int64
	for b.Loop() {
		s := New(b.TempDir(), 1<<20)
		for i := range users {
			if err := s.Add(&users[i]); err != nil {
				b.Fatal(err)
			}
		}
		for _, keys := range []bool{false, true} {
			if err := s.Replay(keys, func(*license.User) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
		size = s.Size()
		s.Close()
	}
	b.SetBytes(size)
	b.ReportMetric(float64(size)/float64(len(users)), "B/user")
}

// Past decodeAheadUsers a replay decodes on a goroutine of its own: the
// same users in the same order, in memory and on disk, and the replay
// stops where the callback says, leaving no goroutine behind.
func TestDecodingAheadGivesTheSameUsers(t *testing.T) {
	users := sampleUsers(3*decodeAheadUsers + 17) // not a whole number of batches
	for _, memory := range []int{1 << 30, 64 << 10} {
		s := New(t.TempDir(), memory)
		for i := range users {
			if err := s.Add(&users[i]); err != nil {
				t.Fatal(err)
			}
		}
		if got := normal(collect(t, s, true)); !reflect.DeepEqual(got, normal(users)) {
			t.Fatalf("memory %d: users differ after a replay decoded ahead", memory)
		}
		before := runtime.NumGoroutine()
		stop := errors.New("stop")
		for _, at := range []int{1, decodeBatch, decodeBatch + 1, len(users) - 1} {
			n := 0
			err := s.Replay(false, func(u *license.User) error {
				if u.Deleted != users[n].Deleted || len(u.Workloads) != len(users[n].Workloads) {
					t.Fatalf("user %d replayed as %+v", n, u)
				}
				if n++; n == at {
					return stop
				}
				return nil
			})
			if err != stop || n != at {
				t.Fatalf("memory %d: replay gave %v after %d users; want the callback's error after %d", memory, err, n, at)
			}
		}
		goroutinetest.Check(t, before)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTruncatedSpillDecodedAheadIsAnError(t *testing.T) {
	users := sampleUsers(2 * decodeAheadUsers)
	s := New("", 1<<30)
	for i := range users {
		_ = s.Add(&users[i])
	}
	s.buf.Truncate(s.buf.Len() - 3)
	n := 0
	err := s.Replay(true, func(*license.User) error { n++; return nil })
	want := fmt.Sprintf("user %d of %d", len(users), len(users))
	if err == nil || !strings.Contains(err.Error(), want) || n != len(users)-1 {
		t.Errorf("error %v after %d users; want one naming %s after every user before it", err, n, want)
	}
}

// The file is written on another goroutine: a write that fails there is
// still the error of an Add (or of the replay that flushes), and the set
// refuses to replay short.
func TestAFailedWriteIsReported(t *testing.T) {
	users := sampleUsers(4 * decodeAheadUsers)
	s := New(t.TempDir(), 16<<10)
	i := 0
	for ; !s.OnDisk(); i++ {
		if err := s.Add(&users[i]); err != nil {
			t.Fatal(err)
		}
	}
	s.file.Close() // every write from now on fails
	var err error
	for ; i < len(users) && err == nil; i++ {
		err = s.Add(&users[i])
	}
	if err == nil {
		err = s.Replay(true, func(*license.User) error { return nil })
	}
	if err == nil || !strings.Contains(err.Error(), "ephemeral storage") {
		t.Fatalf("error %v; want one naming the ephemeral storage", err)
	}
	if rerr := s.Replay(true, func(*license.User) error { return nil }); rerr == nil {
		t.Error("a set whose write failed replayed")
	}
	s.Close()
}

// A customer with more than 127 distinct SKUs or workloads has two-byte
// indexes: the entries past them are read the long way, and still right.
func TestManyDistinctNames(t *testing.T) {
	users := make([]license.User, 300)
	for i := range users {
		users[i] = license.User{
			Key:       fmt.Sprintf("u%d", i),
			Licenses:  []license.License{{SKU: fmt.Sprintf("SKU_%d", i), AssignedDate: license.Date(20_000 + i)}, {SKU: "SPE_E3", AssignedDate: license.NoDate}},
			Workloads: []license.WorkloadUse{{Workload: license.Workload(fmt.Sprintf("workload %d", i)), Licensed: i%2 == 0, LastActivity: license.Date(20_100 + i)}, {Workload: license.Exchange, LastActivity: license.Date(-5)}},
		}
	}
	s := New("", 0)
	for i := range users {
		if err := s.Add(&users[i]); err != nil {
			t.Fatal(err)
		}
	}
	got := collect(t, s, true)
	for i := range users {
		if !reflect.DeepEqual(got[i], users[i]) {
			t.Fatalf("user %d: %+v, want %+v", i, got[i], users[i])
		}
	}
}
