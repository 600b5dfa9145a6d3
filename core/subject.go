package core

import (
	"context"
	"time"

	"usercenter"
)

// Data-subject requests: what a person may ask of the service about
// themselves under data-protection law, the right of access (everything
// held about them, in plain) and the right to erasure.

// SubjectExport is everything the service holds about one person.
type SubjectExport struct {
	// User is the profile with phone, email and address in plain, and
	// the third-party IDs.
	User usercenter.User
	// AuditEvents are the events about the user, oldest first, the
	// disclosures of this export included.
	AuditEvents []usercenter.AuditEvent
	// LiveTokens counts the user's login tokens that have not expired.
	LiveTokens int
	// ExportedAt is when the export was read.
	ExportedAt time.Time
}

// ExportSubject reads everything about one user for a data-subject access
// request. It discloses every personal-data field the user has, each
// disclosure audited in the transaction that reads it, so it needs
// pii.read besides users.read.
func (s *Service) ExportSubject(ctx context.Context, actor *usercenter.Actor, userID string) (*SubjectExport, error) {
	if err := reveal(ctx, actor, usercenter.PIIFields); err != nil {
		return nil, err
	}
	out := &SubjectExport{}
	err := s.store.Update(ctx, func(tx Tx) error {
		*out = SubjectExport{ExportedAt: s.now().UTC()}
		rec, app, err := s.userFor(ctx, tx, actor, userID, usercenter.PermUsersRead)
		if err != nil {
			return err
		}
		u, err := s.pii.disclose(ctx, s, tx, actor, rec, app.UserDomain, usercenter.PIIFields)
		if err != nil {
			return err
		}
		out.User = *u
		f := usercenter.AuditFilter{UserID: rec.ID, Limit: MaxListLimit}
		for {
			page, err := tx.AuditEvents(ctx, f)
			if err != nil {
				return err
			}
			out.AuditEvents = append(out.AuditEvents, page...)
			if len(page) < f.Limit {
				break
			}
			f.AfterID = page[len(page)-1].ID
		}
		out.LiveTokens, err = tx.LiveTokens(ctx, rec.ID, out.ExportedAt)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EraseUser erases a user for a data-subject erasure request: in one
// transaction it deletes the user with their tokens, links and codes (as
// DeleteUser does), turns every audit event about them into a tombstone
// (their UserId becomes usercenter.ErasedUserID: the events stay, with
// when, where, what and by whom, but no longer say about whom), does the
// same to the outbox's events about them, and records
// the erasure itself, also under the tombstone. It returns how many events
// it turned into tombstones.
func (s *Service) EraseUser(ctx context.Context, actor *usercenter.Actor, userID string) (int, error) {
	if _, _, err := s.userFor(ctx, s.store, actor, userID, usercenter.PermUsersWrite); err != nil {
		return 0, err
	}
	var erased int
	err := s.store.Update(ctx, func(tx Tx) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, userID); err != nil {
			return err
		}
		if erased, err = tx.EraseAuditUser(ctx, userID); err != nil {
			return err
		}
		// The outbox names the user too, and the event stream shows it.
		if _, err := tx.EraseEventsUser(ctx, u.SdkAppID, userID); err != nil {
			return err
		}
		tomb := u.User
		tomb.ID = usercenter.ErasedUserID
		return s.audit(ctx, tx, actor, &tomb, usercenter.AuditErase, "")
	})
	if err != nil {
		return 0, err
	}
	return erased, nil
}
