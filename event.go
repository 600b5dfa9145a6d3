package usercenter

import (
	"strings"
	"time"
)

// Event announces one committed change, for delivery to whoever listens
// (webhooks). Events are written to an outbox in the transaction
// of their change: an event exists if and only if its change committed.
// Like the audit trail, an event never holds personal data or secrets:
// only IDs and the names of what changed.
type Event struct {
	ID       int64 // assigned by the store, increasing in the order events become visible
	Type     EventType
	SdkAppID uint64 // 0 for what concerns the whole instance (master_key.rotated)
	At       time.Time
	Actor    string // Actor.Name
	Data     EventData
}

// EventType is what an event announces.
type EventType string

const (
	EventUserCreated       EventType = "user.created"
	EventUserUpdated       EventType = "user.updated"        // Data.Fields: the changed fields
	EventUserDeleted       EventType = "user.deleted"        //
	EventUserStatusChanged EventType = "user.status_changed" // besides user.updated, when status changed
	EventPIIDisclosed      EventType = "pii.disclosed"       // Data.Field and Data.Disclosure
	EventAppCreated        EventType = "app.created"
	EventAppUpdated        EventType = "app.updated" // Data.Fields: the changed settings
	EventKeyCreated        EventType = "key.created" // one per app of the key; Data.SecretID
	EventKeyRevoked        EventType = "key.revoked" // one per app of the key; Data.SecretID
	// EventSuperAppSecretReplaced is written instead of naming the secret
	// among an app.updated's fields.
	EventSuperAppSecretReplaced EventType = "superapp_secret.replaced"
	EventMasterKeyRotated       EventType = "master_key.rotated"  // SdkAppID 0; Data.Resealed
	EventUserTokensRevoked      EventType = "user.tokens_revoked" // Data.Tokens: how many login tokens ended
	EventWebhookCreated         EventType = "webhook.created"     // Data.WebhookID
	EventWebhookUpdated         EventType = "webhook.updated"     // Data.WebhookID, Data.Fields (a replay: cursor)
	EventWebhookDeleted         EventType = "webhook.deleted"     // Data.WebhookID
)

// EventTypes lists every EventType.
var EventTypes = []EventType{
	EventUserCreated, EventUserUpdated, EventUserDeleted, EventUserStatusChanged, EventPIIDisclosed,
	EventAppCreated, EventAppUpdated, EventKeyCreated, EventKeyRevoked, EventSuperAppSecretReplaced, EventMasterKeyRotated,
	EventWebhookCreated, EventWebhookUpdated, EventWebhookDeleted,
	EventUserTokensRevoked,
}

// Valid reports whether t is one of EventTypes.
func (t EventType) Valid() bool {
	for _, k := range EventTypes {
		if t == k {
			return true
		}
	}
	return false
}

// MatchesPattern reports whether an event pattern selects t. A pattern
// is a type ("user.created"), a prefix ending in ".*" ("user.*") for
// every type that starts with it, or "*" for every type. Webhook
// endpoints keep their patterns, so that a type added later under a
// prefix reaches them too.
func (t EventType) MatchesPattern(pattern string) bool {
	if pattern == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, ".*"); ok {
		return prefix != "" && strings.HasPrefix(string(t), prefix+".")
	}
	return string(t) == pattern
}

// EventTypesMatching returns the event types a pattern selects (see
// MatchesPattern). It returns nil when none matches, so that a typo is
// refused rather than silently selecting nothing.
func EventTypesMatching(pattern string) []EventType {
	var out []EventType
	for _, t := range EventTypes {
		if t.MatchesPattern(pattern) {
			out = append(out, t)
		}
	}
	return out
}

// EventFilter selects events of the outbox, in ID order.
type EventFilter struct {
	// SdkAppID is the app whose events to read (0: the instance's),
	// unless EveryApp, which reads every app's and the instance's.
	SdkAppID uint64
	EveryApp bool
	AfterID  int64       // events with a greater ID
	Types    []EventType // nil or empty: every type
	Limit    int
}

// EventData is what an event says about its change, stored as JSON. It
// has a field for each thing an event may name, and none that could hold
// a value: personal data cannot enter an event.
type EventData struct {
	UserID   string   `json:"userId,omitempty"`
	SecretID string   `json:"secretId,omitempty"` // the key's ID, never its secret
	Fields   []string `json:"fields,omitempty"`   // names of the changed fields or settings
	Field    string   `json:"field,omitempty"`    // the field disclosed
	// Disclosure is how a value was disclosed: "reveal" (shown in plain
	// through an API) or "deliver" (encrypted for the super-app platform).
	Disclosure string `json:"disclosure,omitempty"`
	Resealed   int    `json:"resealed,omitempty"`  // values re-encrypted by a master-key rotation
	Tokens     int    `json:"tokens,omitempty"`    // login tokens revoked
	WebhookID  string `json:"webhookId,omitempty"` // the endpoint's ID, never its URL or secret
}
