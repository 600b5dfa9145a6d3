package webhook_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"

	"usercenter"
	"usercenter/webhook"
)

// The receiver's verification, as docs/events.md shows it, written from
// the Standard Webhooks specification and not from this package:
// TestDocsShowTheTestedVerification checks that the docs hold this very
// code.

// docs:verify-go:start
// verify checks a delivery's signature and that its timestamp is within
// five minutes of now. secret is the endpoint's "whsec_…" secret, body the
// request's raw body.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	sent, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sent, 0)).Abs() > 5*time.Minute {
		return errors.New("webhook-timestamp missing or too far from now")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	// The header lists one or more space-separated "v1,<base64>".
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		version, b64, _ := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no valid signature")
}

// docs:verify-go:end

func TestSignVerifies(t *testing.T) {
	secret := usercenter.NewWebhookSecret()
	now := time.Unix(1700000000, 0)
	body := []byte(`{"id":1,"type":"user.created"}`)
	sig, err := webhook.Sign(secret, "evt_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", "evt_1")
	h.Set("webhook-timestamp", "1700000000")
	h.Set("webhook-signature", sig)
	if err := verify(secret, h, body, now.Add(time.Minute)); err != nil {
		t.Fatalf("%s does not verify: %v", sig, err)
	}
	// Every part is covered: body, ID, timestamp, key.
	for name, mutate := range map[string]func(){
		"body":      func() { body = append(bytes.Clone(body), ' ') },
		"id":        func() { h.Set("webhook-id", "evt_2") },
		"timestamp": func() { h.Set("webhook-timestamp", "1700000001") },
		"secret":    func() { secret = usercenter.NewWebhookSecret() },
	} {
		s0, b0, h0 := secret, body, h.Clone()
		mutate()
		if err := verify(secret, h, body, now); err == nil {
			t.Errorf("a changed %s still verifies", name)
		}
		secret, body, h = s0, b0, h0
	}
	if err := verify(secret, h, body, now.Add(10*time.Minute)); err == nil {
		t.Error("a stale timestamp verifies")
	}
	if _, err := webhook.Sign("whsec_!!", "evt_1", now, body); err == nil {
		t.Error("a secret that is not base64 signs")
	}
}

// TestDocsShowTheTestedVerification: docs/events.md shows the Go
// verification above, and the Node one compat/node/webhook.test.mjs runs,
// character for character.
func TestDocsShowTheTestedVerification(t *testing.T) {
	docs, err := os.ReadFile("../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ file, marker string }{
		{"verify_test.go", "docs:verify-go"},
		{"../compat/node/webhook.test.mjs", "docs:verify-node"},
	} {
		src, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		_, rest, ok := strings.Cut(string(src), "// "+c.marker+":start\n")
		code, _, ok2 := strings.Cut(rest, "\n// "+c.marker+":end")
		if !ok || !ok2 {
			t.Fatalf("%s: markers %s not found", c.file, c.marker)
		}
		if !strings.Contains(string(docs), strings.TrimSpace(code)) {
			t.Errorf("docs/events.md does not show the verification of %s:\n%s", c.file, code)
		}
	}
}
