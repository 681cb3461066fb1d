package onboard

import (
	"crypto/rand"
	"math/big"
	"strings"
)

// RandomPassword returns a new strong password: 26 characters from
// crypto/rand (A–Z and 2–7, 130 bits), which every server's password rules
// accept.
func RandomPassword() string { return rand.Text() }

// RandomUsername returns a new, pronounceable account name such as
// "kodebami57": three consonant-vowel syllables from crypto/rand and two
// digits. Names like this are rarely taken; [Signup.Run] still retries
// with other names when one is.
func RandomUsername() string {
	const (
		consonants = "bdfghjklmnprstvz"
		vowels     = "aeiou"
	)
	var b strings.Builder
	for range 3 {
		b.WriteByte(consonants[randIntN(len(consonants))])
		b.WriteByte(vowels[randIntN(len(vowels))])
	}
	b.WriteString(randomDigits(2))
	return b.String()
}

// randomDigits returns n decimal digits from crypto/rand.
func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + randIntN(10))
	}
	return string(b)
}

// randIntN returns a uniform integer in [0, n) from crypto/rand.
func randIntN(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic("onboard: crypto/rand failed: " + err.Error())
	}
	return int(v.Int64())
}
