package usercenter

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

// UserIds made one after the other sort in that order, within a second
// too, and stay valid KSUIDs with their creation second.
func TestUserIDsSortWithinASecond(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	prev := ""
	for i := range 1000 {
		now := at.Add(time.Duration(i) * 997 * time.Microsecond)
		id := NewUserID(now)
		if !ValidUserID(id) {
			t.Fatalf("NewUserID = %q is not valid", id)
		}
		if id <= prev {
			t.Fatalf("UserId %d %q sorts before the one made before it, %q", i, id, prev)
		}
		prev = id
	}
	// Made at the same instant, two IDs still differ.
	if NewUserID(at) == NewUserID(at) {
		t.Fatal("two UserIds of one instant are equal")
	}
}

func TestLoginTokens(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tok := NewLoginToken(at)
	if len(tok) != 62 || strings.Trim(tok[27:], base36) != "" || strings.Trim(tok[:27], base62) != "" {
		t.Fatalf("NewLoginToken = %q", tok)
	}
	key := TokenKey(tok)
	h := sha256.Sum256([]byte(tok))
	if len(key) != 40 || !bytes.Equal(key[8:], h[:]) {
		t.Fatalf("TokenKey = %x", key)
	}
	// Keys sort by issue time, whatever the random parts.
	prev := key
	for i := 1; i < 200; i++ {
		k := TokenKey(NewLoginToken(at.Add(time.Duration(i) * time.Millisecond)))
		if bytes.Compare(k, prev) <= 0 {
			t.Fatalf("token key %d sorts before the one issued before it", i)
		}
		prev = k
	}
	// Tokens issued before login tokens carried a KSUID are still found
	// under their bare hash, and anything else is hashed as it is.
	for _, old := range []string{NewToken(), strings.Repeat("!", 62), tok[:61], tok + "x"} {
		if !bytes.Equal(TokenKey(old), HashToken(old)) {
			t.Fatalf("TokenKey(%q) is not its SHA-256", old)
		}
	}
	if NewLoginToken(at) == NewLoginToken(at) {
		t.Fatal("two tokens of one instant are equal")
	}
}
