package tcsig

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
)

// signingKey.mac is HMAC-SHA256 for every length of message, those past
// its stack buffer included.
func TestSigningKeyMAC(t *testing.T) {
	key := hmacSHA256([]byte("TC3secret"), "2026-12-07")
	k := newSigningKey(key)
	if !bytes.Equal(k.key[:], key) {
		t.Fatal("the key is not kept as derived")
	}
	msg := bytes.Repeat([]byte("0123456789abcdef"), 40)
	for n := 0; n <= len(msg); n++ {
		m := hmac.New(sha256.New, key)
		m.Write(msg[:n])
		want := m.Sum(nil)
		if got := k.mac(msg[:n]); !bytes.Equal(got[:], want) {
			t.Fatalf("mac of %d bytes differs from crypto/hmac", n)
		}
	}
}

// The canonical request lowercases values as strings.ToLower does, and
// builds the form as sent exactly when that differs.
func TestLowerAsStringsToLower(t *testing.T) {
	for _, s := range []string{"", "abc", "ABC", "Host.Example:8080", "application/json; charset=utf-8",
		"\u00c9t\u00e9", "\u0130stanbul", "\u00e9t\u00e9", "x\u212ay", "\xff\xfeA"} {
		if got := string(appendLower([]byte("p:"), s)); got != "p:"+strings.ToLower(s) {
			t.Errorf("appendLower(%q) = %q, want %q", s, got[2:], strings.ToLower(s))
		}
		if got, want := lowerDiffers(s), strings.ToLower(s) != s; got != want {
			t.Errorf("lowerDiffers(%q) = %v, want %v", s, got, want)
		}
	}
}
