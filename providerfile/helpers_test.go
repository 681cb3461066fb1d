package providerfile_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/providers"
)

// ratedAt is the date of the tests: "since" in the future does not
// depend on the clock.
var ratedAt = time.Date(2026, 7, 22, 12, 0, 0, 0, time.UTC)

func jsonOf(t *testing.T, p providers.Provider) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonValue returns the JSON form of field f of p.
func jsonValue(t *testing.T, p providers.Provider, f providers.Field) string {
	t.Helper()
	b, err := json.Marshal(p.Value(f))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const snapshotDir = "../providers/testdata"

var snapshotName = regexp.MustCompile(`^providers-[ABCD]\.(v[12])\.(\d{4}-\d{2}-\d{2})\.json$`)

type snapshot struct {
	name string
	date time.Time
	list providers.List
}

// snapshots reads every filtered list of the given API version in
// snapshotDir (the real published data). It fails the test when there is
// none, so that a moved directory cannot make the tests pass vacuously.
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
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		l, err := providers.Decode(f)
		f.Close()
		if err != nil || l.Len() == 0 {
			t.Fatalf("%s: %v (%d providers)", path, err, l.Len())
		}
		out = append(out, snapshot{name: filepath.Base(path), date: date, list: l})
	}
	if len(out) == 0 {
		t.Fatalf("no %s snapshots in %s", version, snapshotDir)
	}
	return out
}
