package core

import (
	"crypto/hmac"
	"crypto/sha256"
)

// CursorKey is a key for a facade to authenticate the cursors it hands
// out with, derived for purpose from the server's secret blind index
// key: the same on every node and across restarts, so a cursor needs no
// state on the server, and distinct per purpose, so that a cursor's
// authenticator says nothing of the blind indexes.
func (s *Service) CursorKey(purpose string) []byte {
	m := hmac.New(sha256.New, s.pii.indexKey)
	m.Write([]byte("usercenter cursor key\x00" + purpose))
	return m.Sum(nil)
}
