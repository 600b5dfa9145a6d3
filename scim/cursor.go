package scim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// Cursor paging (RFC 9865). A cursor is the keyset listing's own cursor
// (the last user a page showed) with the time it was handed out,
// authenticated by an HMAC over them, the app and the filter: the server
// keeps no state, a cursor survives a restart and works on every node,
// and one that was altered, made up, or taken to another app or another
// filter is refused.

// RFC 9865's error types.
const (
	typeInvalidCursor = "invalidCursor"
	typeExpiredCursor = "expiredCursor"
)

const (
	// cursorTimeout is how long a cursor stays valid after the page that
	// handed it out, as ServiceProviderConfig's cursorTimeout says. Each
	// page hands out a fresh one: a walk may take as long as it needs.
	cursorTimeout = 24 * time.Hour
	// maxCursorBytes bounds what a client may send as a cursor; ours have
	// well under 100 characters.
	maxCursorBytes = 512
	cursorVersion  = 1
	cursorMACBytes = 16
	// cursorHeader is the version, the time handed out and the MAC.
	cursorHeader = 1 + 8 + cursorMACBytes
)

// cursors seals and opens cursors with the server's cursor key.
type cursors struct {
	key []byte
	now func() time.Time
}

// seal returns the cursor that continues after the listing's cursor next,
// for app and the filter with binding.
func (c *cursors) seal(app uint64, binding, next string) string {
	b := make([]byte, cursorHeader, cursorHeader+len(next))
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(c.now().Unix()))
	b = append(b, next...)
	copy(b[9:cursorHeader], c.mac(b[:9], app, binding, next))
	return base64.RawURLEncoding.EncodeToString(b)
}

// open returns the listing's cursor a cursor holds, "" for the empty
// cursor, which asks for the first page. A cursor this server did not
// hand out for app and the filter is invalidCursor; one older than
// cursorTimeout, expiredCursor.
func (c *cursors) open(app uint64, binding, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	invalid := badRequest(typeInvalidCursor, "the cursor is not one this server handed out for this app and filter; send an empty cursor for the first page, then each page's nextCursor")
	if len(cursor) > maxCursorBytes {
		return "", invalid
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) < cursorHeader || b[0] != cursorVersion {
		return "", invalid
	}
	next := string(b[cursorHeader:])
	if !hmac.Equal(b[9:cursorHeader], c.mac(b[:9], app, binding, next)) {
		return "", invalid
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[1:9])), 0)
	if c.now().Sub(issued) > cursorTimeout {
		return "", badRequest(typeExpiredCursor, "the cursor has expired (cursors last %d seconds); start again with an empty cursor", int(cursorTimeout/time.Second))
	}
	return next, nil
}

// mac authenticates a cursor's head, the app, the filter's binding and
// the listing's cursor, each length-prefixed so that no two differ only
// in where one ends.
func (c *cursors) mac(head []byte, app uint64, binding, next string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(head)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], app)
	m.Write(n[:])
	for _, s := range []string{binding, next} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		m.Write(n[:])
		m.Write([]byte(s))
	}
	return m.Sum(nil)[:cursorMACBytes]
}
