package usercenter

import "time"

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
	EventMasterKeyRotated       EventType = "master_key.rotated" // SdkAppID 0; Data.Resealed
	EventWebhookCreated         EventType = "webhook.created"    // Data.WebhookID
	EventWebhookUpdated         EventType = "webhook.updated"    // Data.WebhookID, Data.Fields (a replay: cursor)
	EventWebhookDeleted         EventType = "webhook.deleted"    // Data.WebhookID
)

// EventTypes lists every EventType.
var EventTypes = []EventType{
	EventUserCreated, EventUserUpdated, EventUserDeleted, EventUserStatusChanged, EventPIIDisclosed,
	EventAppCreated, EventAppUpdated, EventKeyCreated, EventKeyRevoked, EventSuperAppSecretReplaced, EventMasterKeyRotated,
	EventWebhookCreated, EventWebhookUpdated, EventWebhookDeleted,
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
	WebhookID  string `json:"webhookId,omitempty"` // the endpoint's ID, never its URL or secret
}
