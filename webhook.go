package usercenter

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Webhook is an endpoint of one app that receives the app's events, those
// its filters select, one POST each, in order, signed with its secret.
type Webhook struct {
	ID       string // "wh_" and 26 lower-case base32 characters
	SdkAppID uint64
	URL      string
	// Events are the filters: exact event types and "prefix.*" globs.
	Events []string
	// Secret is "whsec_" and the base64 of the signing key: set only on
	// the Webhook a creation returns, shown once; stored encrypted.
	Secret    string
	CreatedAt time.Time
	UpdatedAt time.Time
	WebhookState
}

// WebhookState is where delivery to an endpoint stands.
type WebhookState struct {
	// Cursor is the ID of the last event of the app's outbox that the
	// endpoint is done with (delivered, given up or not selected).
	Cursor int64
	// Attempts counts the failed attempts at the event after Cursor, the
	// first of which was at RetryingSince; the next is not before
	// NextAttemptAt.
	Attempts      int
	RetryingSince time.Time
	NextAttemptAt time.Time
	// FailedAt flags the endpoint: the last time an event was given up
	// after a day of retries, FailedEventID that event. Updating or
	// replaying the endpoint clears the flag.
	FailedAt      time.Time
	FailedEventID int64
}

// Matches reports whether the endpoint's filters select events of typ.
func (w *Webhook) Matches(typ EventType) bool {
	return slices.ContainsFunc(w.Events, typ.MatchesPattern)
}

// ParseEventFilters reads a comma-separated list of event filters
// ("user.*,pii.disclosed"): each an exact EventType, or a prefix ending in
// ".*" that some EventType starts with ("*" alone selects every event).
// Duplicates are dropped; an unknown type or prefix is refused.
func ParseEventFilters(s string) ([]string, error) {
	return CheckEventFilters(strings.Split(s, ","))
}

// CheckEventFilters checks a list of event filters as ParseEventFilters
// does, and returns it trimmed, without duplicates or empty entries.
func CheckEventFilters(filters []string) ([]string, error) {
	var out []string
	for _, f := range filters {
		f = strings.TrimSpace(f)
		if f == "" || slices.Contains(out, f) {
			continue
		}
		if len(f) > 64 {
			return nil, Invalid(FieldWebhookEvents, "names a filter longer than 64 bytes")
		}
		if EventTypesMatching(f) == nil {
			return nil, Invalid(FieldWebhookEvents, "names an unknown event type %q (known: %s; or a prefix such as user.*)", ClipName(f, 64), knownEventTypes)
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, Invalid(FieldWebhookEvents, "must name at least one event type")
	}
	if len(out) > 32 {
		return nil, Invalid(FieldWebhookEvents, "must name at most 32 filters")
	}
	return out, nil
}

var knownEventTypes = func() string {
	names := make([]string, len(EventTypes))
	for i, t := range EventTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}()

// MaxWebhookURLLen bounds an endpoint's URL.
const MaxWebhookURLLen = 2048

// CheckWebhookURL checks what can be checked of an endpoint's URL without
// the network: an absolute http or https URL with a host, and no user
// name or password (the URL is shown in lists; a credential belongs in
// the signature). Whether its host is a private address is the
// dispatcher's to check, when it resolves it.
func CheckWebhookURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, Invalid(FieldWebhookURL, "must not be empty")
	}
	if len(raw) > MaxWebhookURLLen {
		return nil, Invalid(FieldWebhookURL, "must be at most %d bytes", MaxWebhookURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, Invalid(FieldWebhookURL, "must be a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, Invalid(FieldWebhookURL, "must be an http or https URL")
	}
	if u.Hostname() == "" {
		return nil, Invalid(FieldWebhookURL, "must name a host")
	}
	if u.User != nil {
		return nil, Invalid(FieldWebhookURL, "must not hold a user name or password")
	}
	if u.Fragment != "" {
		return nil, Invalid(FieldWebhookURL, "must not have a fragment")
	}
	return u, nil
}

// NewWebhookID returns a fresh endpoint ID.
func NewWebhookID() string {
	var b [16]byte
	rand.Read(b[:])
	return "wh_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// WebhookSecretPrefix starts every endpoint secret, as Standard Webhooks
// libraries expect.
const WebhookSecretPrefix = "whsec_"

// NewWebhookSecret returns a fresh secret, "whsec_" and the base64 of 24
// random bytes, the key that signs the endpoint's deliveries.
func NewWebhookSecret() string {
	var b [24]byte
	rand.Read(b[:])
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// WebhookSecretKey returns the key bytes of a secret made by
// NewWebhookSecret.
func WebhookSecretKey(secret string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, WebhookSecretPrefix))
}

// DeliveryResult is the outcome of one attempt at a delivery.
type DeliveryResult string

const (
	DeliveryOK     DeliveryResult = "delivered" // a 2xx answer
	DeliveryFailed DeliveryResult = "failed"    // to be tried again
	// DeliveryGaveUp is the failure of the last attempt, a day after the
	// first: the event is skipped and the endpoint flagged.
	DeliveryGaveUp DeliveryResult = "gave_up"
	// DeliveryTest is a test event's delivery (`webhook test`), whatever
	// its outcome; it moves no cursor.
	DeliveryTest DeliveryResult = "test"
)

// WebhookDelivery is one attempt at delivering an event to an endpoint,
// as its delivery log keeps it. It holds no body, neither sent nor
// received: only what happened.
type WebhookDelivery struct {
	ID        int64 // assigned by the store
	WebhookID string
	EventID   int64 // 0 for a test event
	EventType EventType
	Attempt   int // 1 for the first attempt at the event
	At        time.Time
	// StatusCode is the HTTP status answered, 0 when none was.
	StatusCode int
	Latency    time.Duration
	Result     DeliveryResult
	// Error says why an attempt failed, in a few words of the
	// dispatcher's ("timeout", "status 500", "redirect not followed"),
	// never the receiver's.
	Error string
}

// WebhookPayload is the body of a delivery: one event as JSON.
type WebhookPayload struct {
	ID       int64     `json:"id"` // the event's ID; 0 for a test event
	Type     EventType `json:"type"`
	SdkAppID uint64    `json:"sdkAppId"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Data     EventData `json:"data"`
}

// NewWebhookPayload is the payload of event e.
func NewWebhookPayload(e *Event) WebhookPayload {
	return WebhookPayload{ID: e.ID, Type: e.Type, SdkAppID: e.SdkAppID, At: e.At.UTC(), Actor: e.Actor, Data: e.Data}
}

// EventWebhookTest is the type of the test event `webhook test` sends. It
// is never in the outbox, and no filter needs to select it.
const EventWebhookTest EventType = "webhook.test"

// WebhookMessageID is the webhook-id of an event's deliveries, the same
// on every attempt, so that a receiver can drop duplicates.
func WebhookMessageID(eventID int64) string { return "evt_" + strconv.FormatInt(eventID, 10) }
