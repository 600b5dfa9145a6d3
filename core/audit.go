package core

import (
	"context"
	"slices"
	"time"

	"usercenter"
)

// The audit trail records every change made to a user, every disclosure
// of their personal data and every administrative change (apps, keys,
// the master key), each in the transaction of what it records, with the
// actor and the request that caused it. The same transaction writes the
// outbox's events that announce the change (usercenter.Event): the
// functions here write both, so that a use case cannot write one without
// the other.

// record writes, in tx, the audit events of one change and the events
// that announce it. Built afresh on every run of an Update: the store
// sets their IDs.
func record(ctx context.Context, tx Tx, audits []*usercenter.AuditEvent, events []*usercenter.Event) error {
	switch len(audits) {
	case 0:
	case 1:
		if err := tx.InsertAudit(ctx, audits[0]); err != nil {
			return err
		}
	default:
		if err := tx.InsertAudits(ctx, audits); err != nil {
			return err
		}
	}
	if len(events) == 0 {
		return nil
	}
	return tx.InsertEvents(ctx, events)
}

// audit writes one audit event about user u in tx (a creation, a deletion
// or a disclosure), and its event.
func (s *Service) audit(ctx context.Context, tx Tx, actor *usercenter.Actor, u *usercenter.User, action usercenter.AuditAction, field usercenter.Field) error {
	return record(ctx, tx, []*usercenter.AuditEvent{s.auditEvent(ctx, actor, u, action, field)}, s.userEvents(actor, u, action, field))
}

// auditCreates writes the create events of new users.
func (s *Service) auditCreates(ctx context.Context, tx Tx, actor *usercenter.Actor, recs []*UserRecord) error {
	audits := make([]*usercenter.AuditEvent, len(recs))
	events := make([]*usercenter.Event, 0, len(recs))
	for i := range recs {
		audits[i] = s.auditEvent(ctx, actor, &recs[i].User, usercenter.AuditCreate, "")
		events = append(events, s.userEvents(actor, &recs[i].User, usercenter.AuditCreate, "")...)
	}
	return record(ctx, tx, audits, events)
}

// userEvents are the events that announce what one audit event of a user
// records.
func (s *Service) userEvents(actor *usercenter.Actor, u *usercenter.User, action usercenter.AuditAction, field usercenter.Field) []*usercenter.Event {
	data := usercenter.EventData{UserID: u.ID}
	var typ usercenter.EventType
	switch action {
	case usercenter.AuditCreate:
		typ = usercenter.EventUserCreated
	case usercenter.AuditDelete:
		typ = usercenter.EventUserDeleted
	case usercenter.AuditReveal, usercenter.AuditDeliver:
		typ = usercenter.EventPIIDisclosed
		data.Field, data.Disclosure = string(field), string(action)
	default:
		return nil
	}
	return []*usercenter.Event{newEvent(actor, typ, u.SdkAppID, s.now(), data)}
}

func (s *Service) auditEvent(ctx context.Context, actor *usercenter.Actor, u *usercenter.User, action usercenter.AuditAction, field usercenter.Field) *usercenter.AuditEvent {
	return adminAudit(ctx, actor, u.SdkAppID, s.now(), action, string(field), u.ID)
}

// adminAudit is an audit event; an administrative one has no userID.
func adminAudit(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, now time.Time, action usercenter.AuditAction, field, userID string) *usercenter.AuditEvent {
	return &usercenter.AuditEvent{
		At:        now.UTC(),
		SdkAppID:  sdkAppID,
		UserID:    userID,
		Action:    action,
		Field:     field,
		Actor:     actor.Name,
		RequestID: usercenter.RequestID(ctx),
		Reason:    reasonOf(ctx),
	}
}

func newEvent(actor *usercenter.Actor, typ usercenter.EventType, sdkAppID uint64, now time.Time, data usercenter.EventData) *usercenter.Event {
	return &usercenter.Event{Type: typ, SdkAppID: sdkAppID, At: now.UTC(), Actor: actor.Name, Data: data}
}

// auditChanges writes one update event per changed field of u, and one
// user.updated event naming them all (and user.status_changed when the
// status is among them).
func (s *Service) auditChanges(ctx context.Context, tx Tx, actor *usercenter.Actor, u *usercenter.User, changed []usercenter.Field) error {
	if len(changed) == 0 {
		return nil
	}
	audits := make([]*usercenter.AuditEvent, len(changed))
	names := make([]string, len(changed))
	for i, f := range changed {
		audits[i] = s.auditEvent(ctx, actor, u, usercenter.AuditUpdate, f)
		names[i] = string(f)
	}
	events := []*usercenter.Event{newEvent(actor, usercenter.EventUserUpdated, u.SdkAppID, s.now(), usercenter.EventData{UserID: u.ID, Fields: names})}
	if slices.Contains(changed, usercenter.FieldStatus) {
		events = append(events, newEvent(actor, usercenter.EventUserStatusChanged, u.SdkAppID, s.now(), usercenter.EventData{UserID: u.ID}))
	}
	return record(ctx, tx, audits, events)
}

// auditKey writes, for each app of key, an audit event (action, Field the
// SecretId) and an event of typ.
func (s *Service) auditKey(ctx context.Context, tx Tx, actor *usercenter.Actor, key *usercenter.APIKey, action usercenter.AuditAction, typ usercenter.EventType) error {
	now := s.now()
	var (
		audits []*usercenter.AuditEvent
		events []*usercenter.Event
	)
	for _, app := range key.Apps {
		audits = append(audits, adminAudit(ctx, actor, app, now, action, key.SecretID, ""))
		events = append(events, newEvent(actor, typ, app, now, usercenter.EventData{SecretID: key.SecretID}))
	}
	return record(ctx, tx, audits, events)
}

// auditAppChanges writes the audit events and events of an app's changed
// settings: app.update for each and one app.updated naming them, but a
// replaced SuperApp secret, which has its own (superapp_secret.replace,
// superapp_secret.replaced).
func (s *Service) auditAppChanges(ctx context.Context, tx Tx, actor *usercenter.Actor, sdkAppID uint64, changed []usercenter.Field) error {
	now := s.now()
	var (
		audits []*usercenter.AuditEvent
		events []*usercenter.Event
		names  []string
	)
	for _, f := range changed {
		if f == usercenter.FieldSuperAppSecretKey {
			audits = append(audits, adminAudit(ctx, actor, sdkAppID, now, usercenter.AuditSuperAppSecretReplace, string(f), ""))
			events = append(events, newEvent(actor, usercenter.EventSuperAppSecretReplaced, sdkAppID, now, usercenter.EventData{}))
			continue
		}
		audits = append(audits, adminAudit(ctx, actor, sdkAppID, now, usercenter.AuditAppUpdate, string(f), ""))
		names = append(names, string(f))
	}
	if len(names) > 0 {
		events = append(events, newEvent(actor, usercenter.EventAppUpdated, sdkAppID, now, usercenter.EventData{Fields: names}))
	}
	return record(ctx, tx, audits, events)
}

// AuditPage lists one page of audit events of the apps the actor may read,
// in ID order, or newest first when f.NewestFirst. next is the ID of the
// page's last event when more events match, to pass as AfterID (BeforeID
// newest first) for the following page, and 0 when the page is the last.
func (s *Service) AuditPage(ctx context.Context, actor *usercenter.Actor, f usercenter.AuditFilter) (events []usercenter.AuditEvent, next int64, err error) {
	f, err = auditFilterFor(actor, f)
	if err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	f.Limit = limit + 1 // one more than the page tells whether another follows
	events, err = s.store.AuditEvents(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	if len(events) > limit {
		events = events[:limit]
		next = events[limit-1].ID
	}
	return events, next, nil
}

// auditFilterFor checks f for the actor, limits it to the apps the actor
// may read and fills in the default page size.
func auditFilterFor(actor *usercenter.Actor, f usercenter.AuditFilter) (usercenter.AuditFilter, error) {
	if err := actor.Require(usercenter.PermUsersRead); err != nil {
		return f, err
	}
	if f.SdkAppID != 0 && !actor.Scoped(f.SdkAppID) {
		return f, usercenter.Forbidden("the key is not scoped to SdkAppId %d", f.SdkAppID)
	}
	if !actor.AllApps {
		// Never nil: to the store a nil list means every app.
		f.Apps = append([]uint64{}, actor.Apps...)
	}
	if f.Limit == 0 {
		f.Limit = DefaultListLimit
	}
	if f.Limit < 1 || f.Limit > MaxListLimit {
		return f, usercenter.Invalid(usercenter.FieldPageSize, "must be between 1 and %d", MaxListLimit)
	}
	if f.NewestFirst && f.AfterID != 0 || !f.NewestFirst && f.BeforeID != 0 {
		return f, usercenter.Invalid(usercenter.FieldCursor, "belongs to the other order")
	}
	if !f.Until.IsZero() && !f.Since.IsZero() && f.Until.Before(f.Since) {
		return f, usercenter.Invalid(usercenter.FieldUntil, "must not be before since")
	}
	return f, nil
}
