package rating_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/rating"
)

// snapshotDir holds byte-for-byte copies of published XMPP Providers lists;
// the file names carry the API version and the publication date.
const snapshotDir = "../providers/testdata"

var snapshotName = regexp.MustCompile(`^providers-[ABCD]\.(v[12])\.(\d{4}-\d{2}-\d{2})\.json$`)

type snapshot struct {
	name    string
	version string
	date    time.Time
	list    providers.List
}

// snapshots reads every filtered list in snapshotDir of the given API
// version. It fails the test when there is none, so that a moved directory
// cannot make the tests pass vacuously.
func snapshots(t testing.TB, version string) []snapshot {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(snapshotDir, "providers-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []snapshot
	for _, path := range paths {
		m := snapshotName.FindStringSubmatch(filepath.Base(path))
		if m == nil || m[1] != version {
			continue
		}
		date, err := time.Parse(time.DateOnly, m[2])
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		l, err := providers.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if l.Len() == 0 {
			t.Fatalf("%s: empty list", path)
		}
		out = append(out, snapshot{name: filepath.Base(path), version: m[1], date: date, list: l})
	}
	if len(out) == 0 {
		t.Fatalf("no %s snapshots in %s", version, snapshotDir)
	}
	return out
}

// describe formats why a computed category differs from the published one.
func describe(r rating.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: computed %s, published %s", r.JID, r.Category, r.Published)
	for _, v := range r.Verdicts {
		if len(v.Unmet) == 0 {
			fmt.Fprintf(&b, "\n\tcategory %s: all criteria met", v.Category)
			continue
		}
		for _, s := range v.Unmet {
			fmt.Fprintf(&b, "\n\tcategory %s: %s: value %v, threshold %v (%s)", v.Category, s.Field, s.Value, s.Threshold, s.Reason)
		}
	}
	return b.String()
}

// TestSnapshotsV2 evaluates every provider of every API v2 snapshot on the
// snapshot's publication date and requires the published category.
func TestSnapshotsV2(t *testing.T) {
	for _, s := range snapshots(t, "v2") {
		t.Run(s.name, func(t *testing.T) {
			n := 0
			for _, p := range s.list.Providers {
				if !p.Category.Valid() {
					t.Errorf("%s: no published category", p.JID)
					continue
				}
				r := rating.Evaluate(p, s.date)
				n++
				if r.Category != p.Category {
					t.Errorf("mismatch: %s", describe(r))
				}
			}
			t.Logf("%d providers, all categories reproduced unless reported above", n)
		})
	}
}

// TestSnapshotsV1 evaluates the API v1 snapshot. API v1 let B providers
// score 95 % in the Compliance Tester; the default policy asks 100 % and
// still reproduces this snapshot, as does the v1 variant.
func TestSnapshotsV1(t *testing.T) {
	v1 := rating.DefaultPolicy()
	v1.B.MinComplianceTester = 95
	for _, s := range snapshots(t, "v1") {
		for name, pol := range map[string]rating.Policy{"default": rating.DefaultPolicy(), "v1": v1} {
			t.Run(s.name+"/"+name, func(t *testing.T) {
				for _, p := range s.list.Providers {
					r := pol.Evaluate(p, s.date)
					if r.Category != p.Category {
						t.Errorf("mismatch: %s", describe(r))
					}
				}
			})
		}
	}
}

// TestSnapshotsBothCategories guards the snapshot tests: they must see both
// A and B providers, or "every category reproduced" would mean little.
func TestSnapshotsBothCategories(t *testing.T) {
	count := map[providers.Category]int{}
	for _, s := range snapshots(t, "v2") {
		for _, p := range s.list.Providers {
			count[p.Category]++
		}
	}
	if count[providers.CategoryA] == 0 || count[providers.CategoryB] == 0 {
		t.Fatalf("snapshots hold %v; want A and B providers", count)
	}
}

// TestSnapshotAgeMargin documents how close the youngest listed provider is
// to the MinAge threshold: the threshold must not exceed its age.
func TestSnapshotAgeMargin(t *testing.T) {
	minAge := int(rating.DefaultPolicy().A.MinAge)
	for _, s := range snapshots(t, "v2") {
		youngest := ""
		age := 1 << 30
		on := providers.DateOf(s.date)
		for _, p := range s.list.Providers {
			if d := p.Since.DaysUntil(on); d < age {
				age, youngest = d, p.JID
			}
		}
		if age < minAge {
			t.Errorf("%s: %s is %d days old, below MinAge %d, yet listed", s.name, youngest, age, minAge)
		}
		t.Logf("%s: youngest provider %s, %d days old (MinAge %d)", s.name, youngest, age, minAge)
	}
}

// TestSnapshotsPinThresholds shows that the data bounds the fitted
// thresholds from above: one step stricter at any of them, and some listed
// provider drops out of its published category. (Looser thresholds cannot
// be told apart by lists that hold only A and B providers.) It also proves
// that TestSnapshotsV2 can fail.
func TestSnapshotsPinThresholds(t *testing.T) {
	stricter := map[string]func(*rating.Requirements){
		"MinUploadFileSize+1":     func(r *rating.Requirements) { r.MinUploadFileSize++ },
		"MinUploadTotalSize+1":    func(r *rating.Requirements) { r.MinUploadTotalSize++ },
		"MinUploadStorageTime+1":  func(r *rating.Requirements) { r.MinUploadStorageTime++ },
		"MinArchiveStorageTime+1": func(r *rating.Requirements) { r.MinArchiveStorageTime++ },
		// The youngest provider is 395 days old on its list's date, so
		// the data only shows that the age limit is at most 395 days.
		"MinAge+31": func(r *rating.Requirements) { r.MinAge += 31 },
	}
	all := snapshots(t, "v2")
	for name, change := range stricter {
		t.Run(name, func(t *testing.T) {
			pol := rating.DefaultPolicy()
			change(&pol.A)
			change(&pol.B)
			var dropped []string
			for _, s := range all {
				for _, p := range s.list.Providers {
					if r := pol.Evaluate(p, s.date); r.Category != p.Category {
						dropped = append(dropped, s.name+": "+p.JID)
					}
				}
			}
			if len(dropped) == 0 {
				t.Errorf("a stricter %s still reproduces every snapshot; the threshold is not pinned by the data", name)
			}
			t.Logf("providers that would change category: %v", dropped)
		})
	}
}
