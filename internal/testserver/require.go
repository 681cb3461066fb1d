package testserver

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
)

// lookBinary finds an executable by name on $PATH or in the usual system
// directories (go test is often run without /usr/sbin in $PATH, where
// Debian puts ejabberdctl).
func lookBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	sbinDirs := []string{"/usr/sbin", "/usr/local/sbin", "/usr/bin", "/sbin"}
	for _, d := range sbinDirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in $PATH or %v", name, sbinDirs)
}

// missing skips tb (or fails it when the environment variable CI is "true")
// and returns false.
func missing(tb TB, format string, args ...any) bool {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		tb.Fatalf("testserver: %s (CI=true, so this is an error)", msg)
	} else {
		tb.Skipf("testserver: %s", msg)
	}
	return false
}

// RequireProsody reports whether the prosody and prosodyctl binaries are
// installed. When they are missing it calls tb.Skipf, or tb.Fatalf when the
// environment variable CI is "true". (With a *testing.T neither call
// returns.)
func RequireProsody(tb TB) bool {
	tb.Helper()
	for _, b := range []string{"prosody", "prosodyctl"} {
		if _, err := lookBinary(b); err != nil {
			return missing(tb, "Prosody is not installed: %v", err)
		}
	}
	return true
}

// RequireEjabberd reports whether ejabberd can be started: the ejabberdctl
// and erl binaries exist, the system user "ejabberd" exists, and the current
// user is root or "ejabberd" (Debian's ejabberdctl refuses anyone else).
// When something is missing it calls tb.Skipf, or tb.Fatalf when the
// environment variable CI is "true".
func RequireEjabberd(tb TB) bool {
	tb.Helper()
	for _, b := range []string{"ejabberdctl", "erl"} {
		if _, err := lookBinary(b); err != nil {
			return missing(tb, "ejabberd is not installed: %v", err)
		}
	}
	u, err := user.Lookup("ejabberd")
	if err != nil {
		return missing(tb, "ejabberd is not installed: no user ejabberd: %v", err)
	}
	if uid := os.Geteuid(); uid != 0 && strconv.Itoa(uid) != u.Uid {
		return missing(tb, "ejabberd needs to be started as root or as user ejabberd (euid is %d)", uid)
	}
	return true
}
