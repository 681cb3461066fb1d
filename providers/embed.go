package providers

import (
	"bytes"
	_ "embed"
	"sync"
)

// The newest snapshot of providers-B.json (API v2, categories A and B) in
// ../shared/data/providers, published by XMPP Providers under CC0-1.0.
//
//go:embed data/providers-B.v2.2026-07-22.json
var embeddedJSON []byte

// EmbeddedDate is the publication date of the embedded snapshot.
var embeddedDate = Date{Year: 2026, Month: 7, Day: 22}

// embedded is decoded once; it is never handed out, only copies of it.
var embedded = sync.OnceValue(func() List {
	l, err := Decode(bytes.NewReader(embeddedJSON))
	if err != nil {
		panic("providers: embedded snapshot does not decode: " + err.Error())
	}
	l.Published = embeddedDate
	return l
})

// Embedded returns the provider list compiled into the program: the XMPP
// Providers filtered list B (categories A and B, API v2) published on
// List.Published. It works offline. Each call returns a fresh copy, so a
// caller that changes it changes nobody else's view.
func Embedded() List { return embedded().Clone() }

// EmbeddedJSON returns a copy of the raw embedded file.
func EmbeddedJSON() []byte { return bytes.Clone(embeddedJSON) }
