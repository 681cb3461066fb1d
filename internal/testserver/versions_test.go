package testserver

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestAllVersionsAndNames(t *testing.T) {
	t.Parallel()
	if got := strings.Join(AllVersions(KindProsody), ","); got != "0.12,13" {
		t.Errorf("AllVersions(prosody) = %s", got)
	}
	if got := strings.Join(AllVersions(KindEjabberd), ","); got != "23.01,24.12" {
		t.Errorf("AllVersions(ejabberd) = %s", got)
	}
	if got := ServerName(KindProsody, Prosody13); got != "prosody 13" {
		t.Errorf("ServerName = %q", got)
	}
	for _, c := range []struct {
		v, want string
		ok      bool
	}{{"13.0.1", "13", true}, {"0.12.3", "0.12", true}, {"0.12.3", "0.1", false}, {"23.01", "23.01", true}, {"130.1", "13", false}} {
		if got := matchesVersion(c.v, c.want); got != c.ok {
			t.Errorf("matchesVersion(%q, %q) = %v", c.v, c.want, got)
		}
	}
}

// TestChrootMissing checks that a missing chroot skips (or, under CI,
// fails) only the chroot's versions.
func TestChrootMissing(t *testing.T) {
	t.Setenv(ChrootEnv, t.TempDir()+"/no-such-chroot")
	t.Setenv("CI", "")
	r := NewRunner("")
	defer r.Close()
	err := r.Try(func() { RequireVersion(r, KindProsody, Prosody13) })
	if err == nil || !strings.Contains(err.Error(), "no chroot at") {
		t.Fatalf("RequireVersion(13) without a chroot = %v", err)
	}
	var f *Failure
	if fl, ok := err.(*Failure); ok {
		f = fl
	}
	if f == nil || !f.Skip {
		t.Errorf("without CI: want a skip, got %v", err)
	}
	if prosodyHostProblem() == "" {
		var vs []string
		if err := r.Try(func() { vs = Versions(r, KindProsody) }); err != nil || strings.Join(vs, ",") != "0.12" {
			t.Errorf("Versions without a chroot = %v, %v", vs, err)
		}
	}
	t.Setenv("CI", "true")
	err = r.Try(func() { RequireVersion(r, KindEjabberd, Ejabberd2412) })
	if fl, ok := err.(*Failure); !ok || fl.Skip || !strings.Contains(fl.Msg, "CI=true") {
		t.Errorf("under CI: want a failure, got %v", err)
	}
	err = r.Try(func() { Versions(r, KindEjabberd) })
	if fl, ok := err.(*Failure); !ok || fl.Skip {
		t.Errorf("Versions under CI: want a failure, got %v", err)
	}
}

// offered returns the names of the SASL mechanisms and channel-binding
// types in features, and whether SASL2 (XEP-0388) is offered.
func offered(t *testing.T, f elem) (mechs, cbs []string, sasl2 bool) {
	t.Helper()
	var x struct {
		Mechs []string `xml:"urn:ietf:params:xml:ns:xmpp-sasl mechanisms>mechanism"`
		CB    []struct {
			Type string `xml:"type,attr"`
		} `xml:"urn:xmpp:sasl-cb:0 sasl-channel-binding>channel-binding"`
		SASL2 []struct {
			Mechs []string `xml:"mechanism"`
		} `xml:"urn:xmpp:sasl:2 authentication"`
	}
	if err := xml.Unmarshal([]byte("<f>"+f.Inner+"</f>"), &x); err != nil {
		t.Fatalf("features %v: %v", f, err)
	}
	for _, c := range x.CB {
		cbs = append(cbs, c.Type)
	}
	return x.Mechs, cbs, len(x.SASL2) > 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkNameAndDir checks Server.Name and Version, and that the server's
// directory is gone once the test's cleanups have run.
func checkNameAndDir(t *testing.T, s *Server, kind, version string) {
	t.Helper()
	if s.Name != ServerName(kind, version) || !matchesVersion(s.Version, version) {
		t.Errorf("Name %q, Version %q; want %q, %s.*", s.Name, s.Version, ServerName(kind, version), version)
	}
	if (s.Chroot != "") != (version == Prosody13 || version == Ejabberd2412) {
		t.Errorf("Chroot = %q for %s", s.Chroot, s.Name)
	}
}

// dirGone registers a check (run after the server's own cleanups) that
// *dir was removed.
func dirGone(t *testing.T, dir *string) {
	t.Cleanup(func() {
		if *dir == "" {
			return
		}
		if _, err := os.Stat(*dir); !os.IsNotExist(err) {
			t.Errorf("server dir %s not removed: %v", *dir, err)
		}
	})
}

// TestProsodyVersions starts every Prosody version and logs what it offers;
// Prosody 13 with SASL2 must offer XEP-0440 tls-exporter and SASL2 with
// Bind2, and FAST only to a stream header with from= (mod_sasl2 offers SASL2
// itself without it too).
func TestProsodyVersions(t *testing.T) {
	t.Parallel()
	ForEach(t, KindProsody, func(t *testing.T, v string) {
		t.Parallel()
		var dir string
		dirGone(t, &dir)
		s := StartProsody(t, ProsodyConfig{Version: v, SASL2: v == Prosody13})
		dir = s.Dir
		checkNameAndDir(t, s, KindProsody, v)
		c := dialClient(t, s, s.Domain, false)
		t.Logf("%s before TLS: %v", s.Name, c.features)
		c.startTLS(s.TLSConfig())
		t.Logf("%s after TLS: %v", s.Name, c.features)
		mechs, cbs, sasl2 := offered(t, c.features)
		t.Logf("%s: mechanisms %v, channel bindings %v, SASL2 without from: %v", s.Name, mechs, cbs, sasl2)
		f := dialClientFrom(t, s, "alice@"+s.Domain)
		f.startTLS(s.TLSConfig())
		_, _, sasl2From := offered(t, f.features)
		t.Logf("%s with from=: %v", s.Name, f.features)
		if v == Prosody13 {
			if !contains(cbs, "tls-exporter") || !contains(mechs, "SCRAM-SHA-1-PLUS") {
				t.Errorf("%s: want SCRAM-SHA-1-PLUS with tls-exporter, got %v %v", s.Name, mechs, cbs)
			}
			if !sasl2 || !sasl2From {
				t.Errorf("%s: SASL2 offered without from: %v, with from: %v", s.Name, sasl2, sasl2From)
			}
			if strings.Contains(c.features.Inner, "urn:xmpp:fast:0") {
				t.Errorf("%s: FAST offered without from=: %v", s.Name, c.features)
			}
			if !strings.Contains(f.features.Inner, "urn:xmpp:fast:0") || !strings.Contains(f.features.Inner, "urn:xmpp:bind:0") {
				t.Errorf("%s: no FAST or Bind2 inline with from=: %v", s.Name, f.features)
			}
		} else if sasl2 || sasl2From {
			t.Errorf("%s offers SASL2", s.Name)
		}

		// Failed logins are counted: legacy SASL, and SASL2 on 13.
		cred := base64.StdEncoding.EncodeToString([]byte("\x00nobody\x00wrong-password"))
		c.write("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>", nsSASL, cred)
		if e := c.next(); e.XMLName.Local != "failure" {
			t.Fatalf("wrong password: %v", e)
		}
		want := 1
		if v == Prosody13 {
			f.write("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>%s</initial-response></authenticate>", cred)
			if e := f.next(); e.XMLName.Local != "failure" || e.XMLName.Space != "urn:xmpp:sasl:2" {
				t.Fatalf("SASL2 wrong password: %v", e)
			}
			want++
		}
		if n, err := s.FailedAuths(); err != nil || n != want {
			t.Errorf("FailedAuths = %d, %v; want %d", n, err, want)
		}
		stopAndCheck(t, s)
	})
}

// TestEjabberdVersions starts every ejabberd version with mod_fail2ban
// (two failures ban) and, on 24.12, auth_scram_hash sha512.
func TestEjabberdVersions(t *testing.T) {
	t.Parallel()
	ForEach(t, KindEjabberd, func(t *testing.T, v string) {
		t.Parallel()
		var dir string
		dirGone(t, &dir)
		cfg := EjabberdConfig{Version: v, MaxAuthFailures: 2, BanLifetime: time.Minute}
		if v == Ejabberd2412 {
			cfg.ScramHash = "sha512"
			cfg.FAST = true
		}
		s := StartEjabberd(t, cfg)
		dir = s.Dir
		checkNameAndDir(t, s, KindEjabberd, v)
		c := dialClient(t, s, s.Domain, false)
		t.Logf("%s before TLS: %v", s.Name, c.features)
		c.startTLS(s.TLSConfig())
		t.Logf("%s after TLS: %v", s.Name, c.features)
		mechs, cbs, sasl2 := offered(t, c.features)
		t.Logf("%s: mechanisms %v, channel bindings %v, SASL2 without from: %v", s.Name, mechs, cbs, sasl2)
		f := dialClientFrom(t, s, "alice@"+s.Domain)
		f.startTLS(s.TLSConfig())
		_, _, sasl2From := offered(t, f.features)
		t.Logf("%s with from=: %v", s.Name, f.features)
		if v == Ejabberd2412 {
			if !contains(mechs, "SCRAM-SHA-512-PLUS") || contains(mechs, "SCRAM-SHA-1") || !contains(cbs, "tls-exporter") {
				t.Errorf("%s with sha512: mechanisms %v, channel bindings %v", s.Name, mechs, cbs)
			}
			if sasl2 || !sasl2From {
				t.Errorf("%s: SASL2 offered without from: %v, with from: %v", s.Name, sasl2, sasl2From)
			}
			if !strings.Contains(f.features.Inner, "urn:xmpp:fast:0") {
				t.Errorf("%s with mod_auth_fast: no FAST with from=: %v", s.Name, f.features)
			}
		}

		// A failed login is counted; the second (c2s_max_auth_failures
		// 2) gets the ban, and so does the next stream from 127.0.0.1.
		cred := base64.StdEncoding.EncodeToString([]byte("\x00nobody\x00wrong-password"))
		c.write("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>", nsSASL, cred)
		if e := c.next(); e.XMLName.Local != "failure" {
			t.Fatalf("wrong password: %v", e)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if n, err := s.WaitFailedAuths(ctx, 1); err != nil || n != 1 {
			t.Errorf("FailedAuths = %d, %v; want 1", n, err)
		}
		f.write("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>", nsSASL, cred)
		if e := f.next(); e.XMLName.Local != "error" || !strings.Contains(e.Inner, "policy-violation") {
			t.Errorf("second wrong password: want a policy-violation stream error, got %v", e)
		} else {
			t.Logf("%s, second failure: %v", s.Name, e)
		}
		if n, err := s.WaitFailedAuths(ctx, 2); err != nil || n != 2 {
			t.Errorf("FailedAuths = %d, %v; want 2", n, err)
		}
		if e := firstElement(t, s); e.XMLName.Local != "error" || !strings.Contains(e.Inner, "policy-violation") {
			t.Errorf("stream after a ban: want policy-violation, got %v", e)
		} else {
			t.Logf("%s after a ban: %v", s.Name, e)
		}
		stopAndCheck(t, s)
	})
}

// firstElement opens a stream and returns the first element the server
// sends after its stream header (features, or a stream error).
func firstElement(t *testing.T, s *Server) elem {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := s.Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='%s' version='1.0'>", s.Domain)
	dec := xml.NewDecoder(conn)
	for {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local != "stream" {
			var e elem
			if err := dec.DecodeElement(&e, &se); err != nil {
				t.Fatalf("decode: %v", err)
			}
			return e
		}
	}
}

func TestRemoveStaleDirs(t *testing.T) {
	t.Parallel()
	srv := t.TempDir()
	old, fresh, other := srv+"/onboard-1", srv+"/onboard-2", srv+"/keep-me"
	for _, d := range []string{old, fresh, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-2 * staleAfter)
	for _, d := range []string{old, other} {
		if err := os.Chtimes(d, long, long); err != nil {
			t.Fatal(err)
		}
	}
	removeStaleDirs(srv)
	for d, want := range map[string]bool{old: false, fresh: true, other: true} {
		if _, err := os.Stat(d); (err == nil) != want {
			t.Errorf("%s: exists = %v, want %v", d, err == nil, want)
		}
	}
}
