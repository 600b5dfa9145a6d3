// Package aksig is the enterprise API's AccessKey login formula: the
// password of a login is the lowercase hex SHA-256 of the signed username
// string followed by the key's secret. A pure function, shared by core,
// the load tool and the tests.
package aksig

import (
	"crypto/sha256"
	"encoding/hex"
)

// Password is the password of an AccessKey login of username under
// secretKey (the AccessSecret).
func Password(username, secretKey string) string {
	sum := sha256.Sum256([]byte(username + secretKey))
	return hex.EncodeToString(sum[:])
}
