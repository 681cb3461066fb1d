package testserver

import (
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Users returns the accounts of Domain, sorted, as the server stores them:
// for Prosody the account files of its internal storage
// (DIR/data/DOMAIN/accounts/NAME.dat, names %-decoded as Prosody encodes
// them), for ejabberd what "ejabberdctl registered_users DOMAIN" prints. A
// test checks with it that something created no account, without logging
// in. It works while the server is running.
func (s *Server) Users(tb TB) []string {
	tb.Helper()
	var out []string
	switch s.Kind {
	case KindProsody:
		dir := filepath.Join(s.Dir, "data", prosodyEncode(s.Domain), "accounts")
		ents, err := os.ReadDir(dir)
		if err != nil && !os.IsNotExist(err) {
			tb.Fatalf("testserver: Users: %v", err)
			return nil
		}
		for _, e := range ents {
			name, ok := strings.CutSuffix(e.Name(), ".dat")
			if !ok || e.IsDir() {
				continue
			}
			if u, err := url.PathUnescape(name); err == nil {
				name = u
			}
			out = append(out, name)
		}
	case KindEjabberd:
		for _, l := range strings.Split(s.ejabberdctl(tb, "registered_users", s.Domain), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
	default:
		tb.Fatalf("testserver: Users: unknown server kind %q", s.Kind)
	}
	sort.Strings(out)
	return out
}

// prosodyEncode encodes a name as Prosody's internal storage does for
// directory and file names (util.datamanager): every byte but ASCII letters
// and digits as %xx, lower-case hex.
func prosodyEncode(s string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b.WriteByte(c)
		default:
			b.Write([]byte{'%', digits[c>>4], digits[c&15]})
		}
	}
	return b.String()
}
