package providers

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// BenchmarkDecodeEmbedded decodes the embedded snapshot (29 providers,
// 48 KB), as a program does at start.
func BenchmarkDecodeEmbedded(b *testing.B) {
	b.SetBytes(int64(len(embeddedJSON)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(embeddedJSON)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEmbedded measures the copy Embedded hands out.
func BenchmarkEmbedded(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Embedded()
	}
}

// BenchmarkFilterPick filters the embedded list for an open A provider that
// suits a German user and picks one, as a sign-up screen does.
func BenchmarkFilterPick(b *testing.B) {
	l := Embedded()
	r := rand.New(rand.NewPCG(1, 2))
	q := Query{
		Categories:         []Category{CategoryA},
		InBandRegistration: true,
		FreeOfCharge:       true,
		Prefer:             Preference{Language: "de", Country: "de"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Pick(r, q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilter runs a Filter that copies its result.
func BenchmarkFilter(b *testing.B) {
	l := Embedded()
	q := Query{Categories: []Category{CategoryA}, InBandRegistration: true, Countries: []string{"de"}}
	b.ReportAllocs()
	for b.Loop() {
		_ = l.Filter(q)
	}
}
