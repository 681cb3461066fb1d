package main

import (
	"bufio"
	"os"
	"testing"
)

// FuzzAcceptLanguage: whatever a browser sends, the language is empty or
// two or three letters a–z, and the country empty or two.
func FuzzAcceptLanguage(f *testing.F) {
	file, err := os.Open("testdata/accept-language.txt")
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		f.Add(sc.Text())
	}
	file.Close()
	f.Fuzz(func(t *testing.T, h string) {
		l, c := acceptLanguage(h)
		if l != "" && (len(l) < 2 || len(l) > 3 || !letters(l)) || c != "" && (len(c) != 2 || !letters(c)) || l == "" && c != "" {
			t.Errorf("acceptLanguage(%q) = %q, %q", h, l, c)
		}
	})
}
