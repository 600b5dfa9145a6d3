package core

import (
	"context"

	"usercenter"
)

// The audit trail records every change made to a user and every
// disclosure of their personal data, each in the transaction of what it
// records, with the actor and the request that caused it.

// audit writes one event about user u in tx.
func (s *Service) audit(ctx context.Context, tx Tx, actor *usercenter.Actor, u *usercenter.User, action usercenter.AuditAction, field usercenter.Field) error {
	return tx.InsertAudit(ctx, s.auditEvent(ctx, actor, u, action, field))
}

func (s *Service) auditEvent(ctx context.Context, actor *usercenter.Actor, u *usercenter.User, action usercenter.AuditAction, field usercenter.Field) *usercenter.AuditEvent {
	return &usercenter.AuditEvent{
		At:        s.now().UTC(),
		SdkAppID:  u.SdkAppID,
		UserID:    u.ID,
		Action:    action,
		Field:     string(field),
		Actor:     actor.Name,
		RequestID: usercenter.RequestID(ctx),
	}
}

// auditChanges writes one update event per changed field of u.
func (s *Service) auditChanges(ctx context.Context, tx Tx, actor *usercenter.Actor, u *usercenter.User, changed []usercenter.Field) error {
	for _, f := range changed {
		if err := s.audit(ctx, tx, actor, u, usercenter.AuditUpdate, f); err != nil {
			return err
		}
	}
	return nil
}

// AuditPage lists one page of audit events of the apps the actor may read,
// in ID order. next is the ID of the page's last event when more events
// match, to pass as AfterID for the following page, and 0 when the page
// is the last.
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
	if !f.Until.IsZero() && !f.Since.IsZero() && f.Until.Before(f.Since) {
		return f, usercenter.Invalid(usercenter.FieldUntil, "must not be before since")
	}
	return f, nil
}
