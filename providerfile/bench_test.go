package providerfile_test

import (
	"bytes"
	"testing"
)

// BenchmarkValidate validates a typical provider file.
func BenchmarkValidate(b *testing.B) {
	in := readFile(b, "valid.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, _, err := validator.Validate(bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
	}
}
