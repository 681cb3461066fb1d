package rating_test

import (
	"bytes"
	"testing"

	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/rating"
)

// BenchmarkEvaluate rates every provider of the embedded list once per
// iteration.
func BenchmarkEvaluate(b *testing.B) {
	list := providers.Embedded()
	at := list.Published.Time()
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range list.Providers {
			rating.Evaluate(p, at)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*list.Len()), "ns/provider")
}

// BenchmarkValidateProviderFile validates a typical provider file.
func BenchmarkValidateProviderFile(b *testing.B) {
	in := readFile(b, "valid.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, _, err := validator.Validate(bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
	}
}
