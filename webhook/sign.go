// Package webhook delivers events to webhook endpoints: the dispatcher
// that reads the outbox for each endpoint and posts its events in order,
// the Standard Webhooks signature, and an HTTP client that never reaches
// loopback, link-local or private addresses unless told to.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"time"

	"usercenter"
)

// Headers of a delivery, as Standard Webhooks names them.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Sign returns the webhook-signature of a delivery: "v1," and the base64
// of the HMAC-SHA256, keyed with the secret's bytes, of
// "<msgID>.<timestamp>.<body>", the timestamp in Unix seconds.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := usercenter.WebhookSecretKey(secret)
	if err != nil || len(key) == 0 {
		return "", errors.New("webhook: the secret is not whsec_ and base64")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
