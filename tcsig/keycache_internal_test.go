package tcsig

import (
	"bytes"
	"testing"
)

// The cache must give each (secret, date, service) its own key, exactly
// the one derived afresh, and stay bounded.
func TestKeyCache(t *testing.T) {
	c := newKeyCache(2)
	derive := func(secret, date, service string) []byte {
		return hmacSHA256(hmacSHA256(hmacSHA256([]byte("TC3"+secret), date), service), tc3Terminator)
	}
	cases := [][3]string{
		{"secret-a", "2026-11-22", "lcic"},
		{"secret-b", "2026-11-22", "lcic"},
		{"secret-a", "2026-11-23", "lcic"},
		{"secret-a", "2026-11-22", "localhost:8080"},
		{"secret-a", "2026-11-22", "lcic"}, // again, after the cache started over
	}
	for _, tc := range cases {
		for range 2 { // a miss, then a hit
			got := c.get(tc[0], tc[1], tc[2]).key[:]
			if want := derive(tc[0], tc[1], tc[2]); !bytes.Equal(got, want) {
				t.Fatalf("key for %v differs from a fresh derivation", tc)
			}
		}
		if len(c.keys) > c.max {
			t.Fatalf("cache holds %d keys, max %d", len(c.keys), c.max)
		}
	}
}
