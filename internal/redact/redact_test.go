package redact

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestForms(t *testing.T) {
	s := New("s3cret&pass<x>", "hunter22")
	for _, echo := range []string{
		"s3cret&pass<x>",
		"s3cret&amp;pass&lt;x&gt;",
		base64.StdEncoding.EncodeToString([]byte("\x00juliet\x00s3cret&pass<x>")),
		base64.StdEncoding.EncodeToString([]byte("\x00julie\x00hunter22")),
		base64.StdEncoding.EncodeToString([]byte("\x00juli\x00hunter22")),
		base64.URLEncoding.EncodeToString([]byte("n=juliet,p=hunter22??")),
	} {
		got := s.String("server says: " + echo + " !")
		if strings.Contains(got, "hunter22") || strings.Contains(got, "s3cret") || got == "server says: "+echo+" !" {
			t.Errorf("String(%q) = %q", echo, got)
		}
		if !s.Contains(echo) || string(s.Bytes([]byte(echo))) != s.String(echo) {
			t.Errorf("Contains/Bytes disagree on %q", echo)
		}
	}
	if got := s.String("nothing secret here"); got != "nothing secret here" {
		t.Errorf("String changed ordinary text: %q", got)
	}
	var zero *Set
	if zero.String("x") != "x" || zero.Contains("x") {
		t.Error("nil Set redacts")
	}
	if short := New("ab"); short.String("abc") != "abc" {
		t.Error("a two-byte secret redacts ordinary text")
	}
}

func FuzzSet(f *testing.F) {
	f.Add("s3cret&pass", "prefix", "suffix")
	f.Fuzz(func(t *testing.T, secret, pre, post string) {
		if len(secret) < MinLength || strings.Contains(pre+post, Mark) || strings.Contains(secret, "\x00") {
			return
		}
		s := New(secret)
		for _, echo := range []string{secret, xmlText.Replace(secret)} {
			// The mark itself may spell the secret together with the
			// text around it ("00" + "[redacted]" for "00["): look at
			// what is left outside the marks.
			got := strings.ReplaceAll(s.String(pre+echo+post), Mark, "\x00")
			if strings.Contains(got, secret) && !strings.Contains(pre+post, secret) {
				t.Fatalf("String(%q) = %q still holds the secret", pre+echo+post, got)
			}
		}
	})
}
