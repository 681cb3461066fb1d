package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/providers"
)

func TestTableMatchesFilter(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-category", "A", "-open"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := providers.Embedded().Filter(providers.Query{Categories: []providers.Category{"A"}, InBandRegistration: true})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	// header + one row per provider + blank + summary
	if len(lines) != want.Len()+3 {
		t.Fatalf("%d lines for %d providers:\n%s", len(lines), want.Len(), out.String())
	}
	for i, p := range want.Providers {
		if !strings.HasPrefix(lines[i+1], p.JID+" ") {
			t.Errorf("row %d = %q, want %s", i, lines[i+1], p.JID)
		}
	}
}

func TestJSONPick(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-pick", "-open", "-no-captcha", "-seed", "7", "-json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var wrapped struct {
		Format    int                  `json:"format"`
		Providers []providers.Provider `json:"providers"`
	}
	err := json.Unmarshal(out.Bytes(), &wrapped)
	got := wrapped.Providers
	if err != nil || len(got) != 1 || wrapped.Format != 1 {
		t.Fatalf("output is not one provider: %v\n%s", err, out.String())
	}
	if p := got[0]; p.Category != providers.CategoryA || !p.InBandRegistration || p.CaptchaRequired {
		t.Fatalf("picked %s (%s, ibr %v, captcha %v)", p.JID, p.Category, p.InBandRegistration, p.CaptchaRequired)
	}
}

func TestExitCodes(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-country", "aq"}, &out, &errb); code != 1 {
		t.Errorf("no match: exit %d", code)
	}
	if code := run([]string{"-category", "E"}, &out, &errb); code != 2 {
		t.Errorf("bad category: exit %d", code)
	}
	if code := run([]string{"-file", "../../providers/testdata/providers-Ds.v2.2026-07-01.json", "-domain", "yax.im"}, &out, &errb); code != 0 {
		t.Errorf("simple list lookup: exit %d: %s", code, errb.String())
	}
}
