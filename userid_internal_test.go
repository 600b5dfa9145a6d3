package usercenter

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/segmentio/ksuid"
)

// TestValidUserIDMatchesKSUID checks ValidUserID's comparison against
// ksuid.Parse, around the largest KSUID and at random.
func TestValidUserIDMatchesKSUID(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	check := func(s string) {
		t.Helper()
		_, err := ksuid.Parse(s)
		if got, want := ValidUserID(s), len(s) == 27 && err == nil; got != want {
			t.Errorf("ValidUserID(%q) = %v, ksuid.Parse says %v", s, got, want)
		}
	}
	digits := func(prefix string) string {
		b := []byte(prefix)
		for len(b) < 27 {
			b = append(b, base62[rng.IntN(62)])
		}
		return string(b)
	}
	for _, s := range []string{maxKSUID, "aWgEPTl1tmebfsQzFP4bxwgy80W", "aWgEPTl1tmebfsQzFP4bxwgy80U", "000000000000000000000000000", "zzzzzzzzzzzzzzzzzzzzzzzzzzz", "b00000000000000000000000000", "aWgEPTl1tmebfsQzFP4bxwgy81"} {
		check(s)
	}
	for i := 0; i < 20000; i++ {
		check(digits(maxKSUID[:rng.IntN(27)]))
		check(digits(""))
	}
	for range 100 {
		check(NewUserID(time.Unix(rng.Int64N(1<<32), 0)))
	}
}
