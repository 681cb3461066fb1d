package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/providers"
)

func rate(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, func(string) string { return "" }, nil, &o, &e)
	return code, o.String(), e.String()
}

func contains(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestRateListedA(t *testing.T) {
	code, out, errs := rate(t, "-domain", "07f.de", "-at", "2026-07-22")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	contains(t, out, "07f.de: category A (rated on 2026-07-22)", "published: category A in the list of 2026-07-22",
		"31 from the list", "Every criterion of category A is met.")
	if strings.Contains(out, "Why not") {
		t.Errorf("reasons for an A provider:\n%s", out)
	}
}

func TestRateListedB(t *testing.T) {
	code, out, _ := rate(t, "-domain", "WoodpeckersNest.Space.", "-at", "2026-07-22")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	contains(t, out, "woodpeckersnest.space: category B", "Why not A:", "in-band registration",
		"To reach A:", "allow in-band registration")
}

// TestRateAge rates a listed provider on a date before it was a year old.
func TestRateAge(t *testing.T) {
	code, out, _ := rate(t, "-domain", "jabber.vg", "-at", "2025-12-01")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	contains(t, out, "jabber.vg: category C", "published: category A", "the difference comes from",
		"Why not A:", "Why not B:", "available since 2025-01-01, 334 days before 2025-12-01; needs at least 365 days", "To reach B:", "wait: the criterion is met from 2026-01-01")
}

func TestRateJSON(t *testing.T) {
	code, out, _ := rate(t, "-json", "-domain", "404.city", "-at", "2026-07-22")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got struct {
		Format int `json:"format"`
		Result struct {
			JID       string             `json:"jid"`
			Category  providers.Category `json:"category"`
			Published providers.Category `json:"published"`
			Verdicts  []struct {
				Category providers.Category `json:"category"`
				Met      bool               `json:"met"`
			} `json:"verdicts"`
		} `json:"result"`
		Next struct {
			Category providers.Category `json:"category"`
			Unmet    []struct {
				Field  providers.Field `json:"field"`
				Reason string          `json:"reason"`
				Fix    string          `json:"fix"`
			} `json:"unmet"`
		} `json:"next"`
		Provenance map[providers.Field]string `json:"provenance"`
		Listed     string                     `json:"listed"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Format != 1 || got.Result.JID != "404.city" || got.Result.Category != "B" || got.Result.Published != "B" ||
		len(got.Result.Verdicts) != 3 || got.Listed != "2026-07-22" {
		t.Errorf("result %+v", got.Result)
	}
	if got.Next.Category != "A" || len(got.Next.Unmet) != 1 ||
		got.Next.Unmet[0].Field != providers.FieldInBandRegistration || got.Next.Unmet[0].Fix == "" {
		t.Errorf("next %+v", got.Next)
	}
	if len(got.Provenance) != 31 || got.Provenance[providers.FieldSince] != "list" {
		t.Errorf("provenance %v", got.Provenance)
	}
}

func TestRateProviderFileAlone(t *testing.T) {
	code, out, errs := rate(t, "-file", "testdata/provider-file.json", "-at", "2026-07-22")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	// A file alone lacks what only probes see, so it rates D and says so.
	contains(t, out, "provider file: category D", "14 from the provider file, 17 unknown",
		"Why not C:", "To reach C:", "Compliance Tester score is 0 % or unknown",
		"file upload quota per user is 50 MB")
}

func TestRateProviderFileOverList(t *testing.T) {
	code, out, _ := rate(t, "-domain", "chatrix.one", "-file", "testdata/provider-file.json", "-at", "2026-07-22")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	// The file's quota of 50 MB replaces the listed 1024 MB.
	contains(t, out, "chatrix.one: category C", "published: category B", "17 from the list, 14 from the provider file",
		"To reach B:", "raise the file upload quota per user to at least 100 MB")

	code, out, _ = rate(t, "-json", "-domain", "chatrix.one", "-file", "testdata/provider-file.json", "-at", "2026-07-22")
	if code != 0 || !strings.Contains(out, `"maximumHttpFileUploadTotalSize": "provider file"`) ||
		!strings.Contains(out, `"providerFile": {`) {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestRateInvalidProviderFile(t *testing.T) {
	code, out, errs := rate(t, "-domain", "chatrix.one", "-file", "testdata/invalid.json", "-at", "2026-07-22")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	contains(t, errs, "invalid provider file", "organization")
	// The problems are shown and the rest is still rated; the invalid key
	// keeps the listed value.
	contains(t, out, "error: organization: unknown organization \"hobby\"", "warning: maximumHttpFileUploadTotalSize",
		"chatrix.one: category B", "18 from the list, 13 from the provider file")
}

func TestRateUnusable(t *testing.T) {
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"-file", "testdata/not-json.json"}, 1, "not JSON"},
		{[]string{"-file", "testdata/missing.json"}, 1, "missing.json"},
		{[]string{"-domain", "nope.example"}, 1, "not in the embedded list"},
		{nil, 2, "usage"},
		{[]string{"-domain", "07f.de", "extra"}, 2, "usage"},
		{[]string{"-at", "22.07.2026", "-domain", "07f.de"}, 2, "invalid date"},
		{[]string{"-bogus"}, 2, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errs := rate(t, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.err) {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, errs, tc.code, tc.err)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
		})
	}
}
