package testserver

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Server versions, the values of [ProsodyConfig.Version] and
// [EjabberdConfig.Version]. The older two are Debian bookworm's packages,
// installed on the host; the newer two are Debian trixie's, run from a
// chroot (see [ChrootDir]). The empty Version is the host's server, whatever
// version it is.
const (
	Prosody012   = "0.12"  // host: Debian bookworm's prosody 0.12.3
	Prosody13    = "13"    // chroot: Debian trixie's prosody 13.0.1 (+ prosody-modules)
	Ejabberd2301 = "23.01" // host: Debian bookworm's ejabberd 23.01
	Ejabberd2412 = "24.12" // chroot: Debian trixie's ejabberd 24.12
)

// ChrootEnv is the environment variable naming the Debian trixie chroot the
// newer servers run from; [DefaultChroot] when it is unset or empty.
const ChrootEnv = "ONBOARD_TRIXIE"

// DefaultChroot is where trixie-chroot.sh (next to this file) builds the
// chroot by default.
const DefaultChroot = "/var/tmp/onboard-trixie"

// ChrootDir returns the directory of the Debian trixie chroot: $ONBOARD_TRIXIE
// or [DefaultChroot].
func ChrootDir() string {
	if d := os.Getenv(ChrootEnv); d != "" {
		return d
	}
	return DefaultChroot
}

// flavor is one server version this package knows how to run.
type flavor struct {
	kind    string
	version string // one of the Version constants
	chroot  bool   // runs from ChrootDir()
}

// flavors returns every known server version, oldest first per kind.
func flavors() []flavor {
	return []flavor{
		{KindProsody, Prosody012, false},
		{KindProsody, Prosody13, true},
		{KindEjabberd, Ejabberd2301, false},
		{KindEjabberd, Ejabberd2412, true},
	}
}

// lookupFlavor returns the flavor for kind and version ("" is the host's).
func lookupFlavor(kind, version string) (flavor, bool) {
	if version == "" {
		return flavor{kind: kind}, true
	}
	for _, f := range flavors() {
		if f.kind == kind && f.version == version {
			return f, true
		}
	}
	return flavor{}, false
}

// root is the directory the flavor's files are found under ("" for the
// host).
func (f flavor) root() string {
	if f.chroot {
		return ChrootDir()
	}
	return ""
}

// AllVersions returns every version of kind (KindProsody or KindEjabberd)
// this package can run, whether or not it is installed here, oldest first.
func AllVersions(kind string) []string {
	var out []string
	for _, f := range flavors() {
		if f.kind == kind {
			out = append(out, f.version)
		}
	}
	return out
}

// ServerName returns the name [Server.Name] has for a server of kind and
// version, e.g. "prosody 13" or "ejabberd 23.01", for test names and
// benchmark tables.
func ServerName(kind, version string) string {
	if version == "" {
		return kind
	}
	return kind + " " + version
}

// installedVersion returns the version of the server of kind installed under
// root ("" for the host) as its files say: prosody.version for Prosody, the
// vsn of ejabberd.app for ejabberd.
func installedVersion(kind, root string) (string, error) {
	switch kind {
	case KindProsody:
		file := filepath.Join(root, "/usr/lib/prosody/prosody.version")
		data, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			return "", fmt.Errorf("%s is empty", file)
		}
		return v, nil
	case KindEjabberd:
		var files []string
		for _, pat := range []string{"/usr/lib/*/ejabberd-*/ebin/ejabberd.app", "/usr/lib/erlang/lib/ejabberd-*/ebin/ejabberd.app"} {
			m, _ := filepath.Glob(filepath.Join(root, pat))
			files = append(files, m...)
		}
		if len(files) == 0 {
			return "", fmt.Errorf("no ejabberd.app under %s/usr/lib", root)
		}
		data, err := os.ReadFile(files[0])
		if err != nil {
			return "", err
		}
		m := regexp.MustCompile(`\{\s*vsn\s*,\s*"([^"]+)"`).FindSubmatch(data)
		if m == nil {
			return "", fmt.Errorf("no vsn in %s", files[0])
		}
		// Debian's build says "23.01-1", "24.12-3+deb13u2": drop the
		// package revision.
		v, _, _ := strings.Cut(string(m[1]), "-")
		return v, nil
	}
	return "", fmt.Errorf("unknown server kind %q", kind)
}

// matchesVersion reports whether the installed version v belongs to the
// version constant want ("13" matches "13.0.1", "0.12" matches "0.12.3",
// "23.01" matches "23.01" and "23.01.1").
func matchesVersion(v, want string) bool {
	return v == want || strings.HasPrefix(v, want+".")
}

// checkFlavor reports why f cannot be started here ("" if it can) and the
// installed version.
func checkFlavor(f flavor) (problem, version string) {
	root := f.root()
	where := "on this machine"
	if f.chroot {
		where = fmt.Sprintf("in the chroot %s (build it with internal/testserver/trixie-chroot.sh; %s overrides the path)", root, ChrootEnv)
		if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
			return fmt.Sprintf("%s %s is not installed: no chroot at %s (build it with internal/testserver/trixie-chroot.sh; %s overrides the path)",
				f.kind, f.version, root, ChrootEnv), ""
		}
		if os.Geteuid() != 0 {
			return fmt.Sprintf("%s %s runs from the chroot %s, which needs root (euid is %d)", f.kind, f.version, root, os.Geteuid()), ""
		}
		if _, err := lookBinary("chroot"); err != nil {
			return fmt.Sprintf("%s %s: %v", f.kind, f.version, err), ""
		}
	}
	var bins []string
	switch f.kind {
	case KindProsody:
		bins = []string{"/usr/bin/prosody", "/usr/bin/prosodyctl"}
	case KindEjabberd:
		bins = []string{"/usr/sbin/ejabberdctl", "/usr/bin/erl"}
	}
	if f.chroot {
		for _, b := range bins {
			if fi, err := os.Stat(filepath.Join(root, b)); err != nil || fi.Mode()&0o111 == 0 {
				return fmt.Sprintf("%s %s is not installed %s: no %s", f.kind, f.version, where, b), ""
			}
		}
		if f.kind == KindEjabberd {
			if _, _, err := chrootUser(root, "ejabberd"); err != nil {
				return fmt.Sprintf("%s %s is not installed %s: %v", f.kind, f.version, where, err), ""
			}
		}
	}
	v, err := installedVersion(f.kind, root)
	if err != nil {
		if f.chroot {
			return fmt.Sprintf("%s %s is not installed %s: %v", f.kind, f.version, where, err), ""
		}
		// The host's binaries were checked by RequireProsody or
		// RequireEjabberd; an unusual layout only loses the version.
		v = ""
	}
	if f.version != "" && v != "" && !matchesVersion(v, f.version) {
		return fmt.Sprintf("%s %s is not installed %s (found version %s)", f.kind, f.version, where, v), v
	}
	if f.version != "" && v == "" {
		return fmt.Sprintf("%s %s: cannot tell the installed version %s: %v", f.kind, f.version, where, err), ""
	}
	return "", v
}

// RequireVersion reports whether version of kind (KindProsody or
// KindEjabberd; version one of the Version constants, or "" for the host's
// server) can be started. When it cannot, it calls tb.Skipf, or tb.Fatalf
// when the environment variable CI is "true" (with a *testing.T neither call
// returns). The host's versions need what [RequireProsody] or
// [RequireEjabberd] check; the chroot's need root and the chroot
// ([ChrootDir]) with the server installed in it.
func RequireVersion(tb TB, kind, version string) bool {
	tb.Helper()
	_, ok := requireVersion(tb, kind, version)
	return ok
}

// requireVersion is RequireVersion that also returns the flavor and sets
// its installed version.
func requireVersion(tb TB, kind, version string) (flavorInfo, bool) {
	tb.Helper()
	f, ok := lookupFlavor(kind, version)
	if !ok {
		tb.Fatalf("testserver: unknown %s version %q (known: %s)", kind, version, strings.Join(AllVersions(kind), ", "))
		return flavorInfo{}, false
	}
	if !f.chroot {
		switch kind {
		case KindProsody:
			if !RequireProsody(tb) {
				return flavorInfo{}, false
			}
		case KindEjabberd:
			if !RequireEjabberd(tb) {
				return flavorInfo{}, false
			}
		}
	}
	problem, v := checkFlavor(f)
	if problem != "" {
		return flavorInfo{}, missing(tb, "%s", problem)
	}
	return flavorInfo{flavor: f, installed: v}, true
}

// flavorInfo is a flavor that can be started, with its installed version.
type flavorInfo struct {
	flavor
	installed string
}

// name is the Server.Name of a server of this flavor.
func (f flavorInfo) name() string {
	if f.version != "" {
		return ServerName(f.kind, f.version)
	}
	// The host's server: name it after the known version it is.
	for _, g := range flavors() {
		if g.kind == f.kind && !g.chroot && matchesVersion(f.installed, g.version) {
			return ServerName(g.kind, g.version)
		}
	}
	return ServerName(f.kind, f.installed)
}

// Versions returns the versions of kind (KindProsody or KindEjabberd) that
// can be started here, oldest first (see [AllVersions] for all of them).
// When the environment variable CI is "true", a version that cannot be
// started fails tb (tb.Fatalf). Otherwise those are left out, and when none
// is left tb is skipped.
func Versions(tb TB, kind string) []string {
	tb.Helper()
	var out, problems []string
	for _, f := range flavors() {
		if f.kind != kind {
			continue
		}
		if !f.chroot {
			if p := hostProblem(kind); p != "" {
				problems = append(problems, p)
				continue
			}
		}
		if p, _ := checkFlavor(f); p != "" {
			problems = append(problems, p)
			continue
		}
		out = append(out, f.version)
	}
	if len(problems) > 0 && os.Getenv("CI") == "true" {
		tb.Fatalf("testserver: %s (CI=true, so this is an error)", strings.Join(problems, "; "))
		return nil
	}
	if len(out) == 0 {
		if len(problems) == 0 {
			problems = []string{"unknown server kind " + strconv.Quote(kind)}
		}
		tb.Skipf("testserver: %s", strings.Join(problems, "; "))
		return nil
	}
	for _, p := range problems {
		tb.Logf("testserver: skipping: %s", p)
	}
	return out
}

// ForEach runs f as a subtest of t for every version of kind (KindProsody
// or KindEjabberd), named after [ServerName] ("prosody_0.12",
// "prosody_13", ...). A version that cannot be started here skips its
// subtest, or fails it when the environment variable CI is "true" (see
// [RequireVersion]). The subtests are not parallel unless f calls
// t.Parallel.
func ForEach(t *testing.T, kind string, f func(t *testing.T, version string)) {
	t.Helper()
	for _, v := range AllVersions(kind) {
		t.Run(ServerName(kind, v), func(t *testing.T) {
			RequireVersion(t, kind, v)
			f(t, v)
		})
	}
}

// hostProblem says why the host's server of kind cannot be started, or "".
func hostProblem(kind string) string {
	switch kind {
	case KindProsody:
		return prosodyHostProblem()
	case KindEjabberd:
		return ejabberdHostProblem()
	}
	return "unknown server kind " + strconv.Quote(kind)
}

// chrootUser returns the uid and gid of user name in root/etc/passwd.
func chrootUser(root, name string) (uid, gid int, err error) {
	data, err := os.ReadFile(filepath.Join(root, "etc", "passwd"))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 4 && f[0] == name {
			uid, err1 := strconv.Atoi(f[2])
			gid, err2 := strconv.Atoi(f[3])
			if err1 != nil || err2 != nil {
				return 0, 0, fmt.Errorf("%s/etc/passwd: bad entry for %s", root, name)
			}
			return uid, gid, nil
		}
	}
	return 0, 0, fmt.Errorf("no user %s in %s/etc/passwd", name, root)
}
