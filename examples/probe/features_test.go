package main

import (
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/discovery"
)

// TestFeatureList: the summary names SASL2, FAST and the channel-binding
// types, as Prosody 13 and ejabberd 24.12 offer them.
func TestFeatureList(t *testing.T) {
	got := featureList(&discovery.Features{SASL2: []string{"SCRAM-SHA-256-PLUS"}, Bind2: true,
		FAST: []string{"HT-SHA-256-NONE"}, ChannelBindings: []string{"tls-exporter", "tls-server-end-point"}})
	for _, want := range []string{"SASL2 SCRAM-SHA-256-PLUS", "FAST HT-SHA-256-NONE", "channel binding tls-exporter tls-server-end-point", "Bind2"} {
		if !strings.Contains(got, want) {
			t.Errorf("featureList = %q, want %q in it", got, want)
		}
	}
}
