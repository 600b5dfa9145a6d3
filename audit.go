package usercenter

import "time"

// AuditEvent records one disclosure of personal data or one change made to
// a user. It never holds the values themselves.
type AuditEvent struct {
	ID        int64 // assigned by the store, increasing
	At        time.Time
	SdkAppID  uint64
	UserID    string
	Action    AuditAction
	Field     string // the field disclosed or changed; "" for create and delete
	Actor     string // Actor.Name
	RequestID string
}

// AuditAction is what an audit event records.
type AuditAction string

const (
	AuditReveal  AuditAction = "reveal"  // a plain value was shown
	AuditDeliver AuditAction = "deliver" // an encrypted value was handed out
	AuditCreate  AuditAction = "create"
	AuditUpdate  AuditAction = "update"
	AuditDelete  AuditAction = "delete"
	// AuditErase records a data subject's erasure: the user was deleted
	// and the UserId of every event about them became ErasedUserID.
	AuditErase AuditAction = "erase"
)

// ErasedUserID is the UserId of the audit events of an erased user, and of
// the erase event itself: the tombstone that keeps the events' existence
// (when, in which app, which action on which field, by whom) but no
// longer says whom they were about.
const ErasedUserID = "erased"

// AuditActions lists every AuditAction, in the order messages name them.
var AuditActions = []AuditAction{AuditReveal, AuditDeliver, AuditCreate, AuditUpdate, AuditDelete, AuditErase}

// Valid reports whether a is one of AuditActions.
func (a AuditAction) Valid() bool {
	for _, k := range AuditActions {
		if a == k {
			return true
		}
	}
	return false
}

// AuditFilter selects audit events. Zero fields match everything.
type AuditFilter struct {
	Apps     []uint64 // nil: every app
	SdkAppID uint64
	UserID   string
	Field    string
	Action   AuditAction
	Actor    string
	Since    time.Time
	Until    time.Time
	AfterID  int64 // keyset cursor: events with a greater ID
	Limit    int
}
