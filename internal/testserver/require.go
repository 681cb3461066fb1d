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

// RequireProsody reports whether the host's prosody and prosodyctl binaries
// are installed. When they are missing it calls tb.Skipf, or tb.Fatalf when
// the environment variable CI is "true". (With a *testing.T neither call
// returns.) It does not look at the chroot; see [RequireVersion].
func RequireProsody(tb TB) bool {
	tb.Helper()
	if p := prosodyHostProblem(); p != "" {
		return missing(tb, "%s", p)
	}
	return true
}

// prosodyHostProblem says why the host's Prosody cannot be started, or "".
func prosodyHostProblem() string {
	for _, b := range []string{"prosody", "prosodyctl"} {
		if _, err := lookBinary(b); err != nil {
			return fmt.Sprintf("Prosody is not installed: %v", err)
		}
	}
	return ""
}

// RequireEjabberd reports whether the host's ejabberd can be started: the
// ejabberdctl and erl binaries exist, the system user "ejabberd" exists, and
// the current user is root or "ejabberd" (Debian's ejabberdctl refuses anyone
// else). When something is missing it calls tb.Skipf, or tb.Fatalf when the
// environment variable CI is "true". It does not look at the chroot; see
// [RequireVersion].
func RequireEjabberd(tb TB) bool {
	tb.Helper()
	if p := ejabberdHostProblem(); p != "" {
		return missing(tb, "%s", p)
	}
	return true
}

// ejabberdHostProblem says why the host's ejabberd cannot be started, or "".
func ejabberdHostProblem() string {
	for _, b := range []string{"ejabberdctl", "erl"} {
		if _, err := lookBinary(b); err != nil {
			return fmt.Sprintf("ejabberd is not installed: %v", err)
		}
	}
	u, err := user.Lookup("ejabberd")
	if err != nil {
		return fmt.Sprintf("ejabberd is not installed: no user ejabberd: %v", err)
	}
	if uid := os.Geteuid(); uid != 0 && strconv.Itoa(uid) != u.Uid {
		return fmt.Sprintf("ejabberd needs to be started as root or as user ejabberd (euid is %d)", uid)
	}
	return ""
}
