package rating_test

import (
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
