package core

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"time"

	"usercenter"
)

// Email blind indexes have had two sets of rules. Under the first an
// address was trimmed and lower-cased by Unicode's rules, stored so, and
// indexed as stored. Under the second (version 2) NormalizeEmail refuses
// surrounding whitespace, folds only ASCII case and composes NFC, and the
// index of a stored address is computed over its CanonicalEmail, whichever
// rules stored it: a value stored under the first rules stays as it was
// stored, and is found by its canonical form.
//
// MigrateEmailIndex brings the indexes of a database written under the
// first rules to the second. Until metaEmailIndexVersion says it has
// finished, a lookup by email also tries the index the first rules would
// have computed for what was typed, so that no user goes missing while it
// runs, on any node.
const (
	// metaEmailIndexVersion holds emailIndexVersion once every stored
	// email is indexed under the current rules; absent before.
	metaEmailIndexVersion = "email_index_version"
	emailIndexVersion     = "2"
	// metaEmailIndexAfter holds, while a migration runs, the UserId of
	// the last user it re-indexed: a migration that stops resumes there.
	metaEmailIndexAfter = "email_index_after"
	// emailIndexBatch bounds each transaction of a migration.
	emailIndexBatch = 500
)

// EmailIndexReport counts what MigrateEmailIndex did.
type EmailIndexReport struct {
	// AlreadyDone is set when the indexes were already current.
	AlreadyDone bool
	Reindexed   int // emails whose index changed
	Current     int // emails whose index already was the current rules' one
	// Nonconforming counts stored emails that the current rules would
	// refuse (such as a local part over 64 bytes): they stay stored and
	// indexed, but a lookup, which follows the current rules, cannot
	// find them.
	Nonconforming int
}

// sealedMeta reads a meta value the service sealed; nil if it is unset
// or empty.
func (s *Service) sealedMeta(ctx context.Context, r Reader, name string) ([]byte, error) {
	v, err := r.Meta(ctx, name)
	if err != nil || len(v) == 0 {
		return nil, err
	}
	pt, err := s.vault.Open(v, aadMeta(name))
	if err != nil {
		return nil, usercenter.Internal(err)
	}
	return pt, nil
}

func (s *Service) setSealedMeta(ctx context.Context, tx Tx, name string, value []byte) error {
	if len(value) == 0 {
		return tx.SetMeta(ctx, name, nil)
	}
	return tx.SetMeta(ctx, name, s.vault.Seal(value, aadMeta(name)))
}

// emailIndexCurrent reports whether every stored email is indexed under
// the current rules. Once it is, it stays so, and the answer is
// remembered: only the nodes of a database still being migrated read it.
func (s *Service) emailIndexCurrent(ctx context.Context, r Reader) (bool, error) {
	if s.emailIndexDone.Load() {
		return true, nil
	}
	v, err := s.sealedMeta(ctx, r, metaEmailIndexVersion)
	if err != nil {
		return false, err
	}
	if string(v) == emailIndexVersion {
		s.emailIndexDone.Store(true)
		return true, nil
	}
	return false, nil
}

// legacyEmailForm is what the first rules stored, and indexed, for an
// address that the current rules accept: it has no whitespace around it,
// so they only lower-cased it.
func legacyEmailForm(typed string) string { return strings.ToLower(typed) }

// emailLookup finds an app's users by email: typed as the caller sent it,
// refused if the current rules refuse it.
func (s *Service) emailLookup(ctx context.Context, sdkAppID uint64, typed string) (func(Reader) ([]UserRecord, error), error) {
	email, err := usercenter.NormalizeEmail(usercenter.FieldEmail, typed)
	if err != nil {
		return nil, err
	}
	idx := s.pii.blindIndex(sdkAppID, usercenter.FieldEmail, email)
	legacy := legacyEmailForm(typed)
	return func(r Reader) ([]UserRecord, error) {
		found, err := r.UsersByIndex(ctx, sdkAppID, usercenter.FieldEmail, idx)
		if err != nil || legacy == email {
			return found, err
		}
		current, err := s.emailIndexCurrent(ctx, r)
		if err != nil || current {
			return found, err
		}
		old, err := r.UsersByIndex(ctx, sdkAppID, usercenter.FieldEmail, s.pii.blindIndex(sdkAppID, usercenter.FieldEmail, legacy))
		if err != nil {
			return nil, err
		}
		for _, u := range old {
			if !slices.ContainsFunc(found, func(f UserRecord) bool { return f.ID == u.ID }) {
				found = append(found, u)
			}
		}
		slices.SortFunc(found, func(a, b UserRecord) int { return strings.Compare(a.ID, b.ID) })
		return found, nil
	}, nil
}

// MigrateEmailIndex re-indexes every stored email under the current rules,
// in transactions of a batch of users each, and records in the meta table
// how far it got and, at the end, that it has finished. It may be stopped
// at any point and run again, by any node and by several at once: each
// batch computes its indexes afresh from the sealed emails it reads, and
// starts where the last committed one ended. Run on a database that is
// already current it does nothing.
func (s *Service) MigrateEmailIndex(ctx context.Context) (EmailIndexReport, error) {
	var rep EmailIndexReport
	if current, err := s.emailIndexCurrent(ctx, s.store); err != nil || current {
		rep.AlreadyDone = current
		return rep, err
	}
	for {
		done, err := s.migrateEmailIndexBatch(ctx, emailIndexBatch, &rep)
		if err != nil || done {
			return rep, err
		}
	}
}

// migrateEmailIndexBatch re-indexes the next batch of up to limit users
// and adds what it did to rep; done reports that no user was left.
func (s *Service) migrateEmailIndexBatch(ctx context.Context, limit int, rep *EmailIndexReport) (done bool, err error) {
	var batch EmailIndexReport
	err = s.store.Update(ctx, func(tx Tx) error {
		// Counted afresh on every run: a store may run fn again.
		batch, done = EmailIndexReport{}, false
		v, err := s.sealedMeta(ctx, tx, metaEmailIndexVersion)
		if err != nil {
			return err
		}
		if string(v) == emailIndexVersion {
			done = true // another node finished meanwhile
			return nil
		}
		after, err := s.sealedMeta(ctx, tx, metaEmailIndexAfter)
		if err != nil {
			return err
		}
		page, err := tx.EmailIndexes(ctx, string(after), limit)
		if err != nil {
			return err
		}
		idx := s.pii.indexer()
		for _, e := range page {
			pt, err := s.vault.Open(e.Sealed, aadUser(e.UserID, usercenter.FieldEmail))
			if err != nil {
				return usercenter.Internal(err)
			}
			stored := string(pt)
			if _, err := usercenter.NormalizeEmail(usercenter.FieldEmail, stored); err != nil {
				batch.Nonconforming++
			}
			want := idx.index(e.SdkAppID, usercenter.FieldEmail, usercenter.CanonicalEmail(stored))
			if bytes.Equal(want, e.Index) {
				batch.Current++
				continue
			}
			if err := tx.SetEmailIndex(ctx, e.UserID, want); err != nil {
				return err
			}
			batch.Reindexed++
		}
		if len(page) == limit {
			return s.setSealedMeta(ctx, tx, metaEmailIndexAfter, []byte(page[len(page)-1].UserID))
		}
		done = true
		if err := s.setSealedMeta(ctx, tx, metaEmailIndexAfter, nil); err != nil {
			return err
		}
		return s.setSealedMeta(ctx, tx, metaEmailIndexVersion, []byte(emailIndexVersion))
	})
	if err != nil {
		return false, err
	}
	rep.Reindexed += batch.Reindexed
	rep.Current += batch.Current
	rep.Nonconforming += batch.Nonconforming
	if done {
		s.emailIndexDone.Store(true)
	}
	return done, nil
}

// emailIndexRetry spaces the attempts of MigrateEmailIndexInBackground.
const emailIndexRetry = time.Minute

// MigrateEmailIndexInBackground runs MigrateEmailIndex until it succeeds
// or ctx ends, trying again every emailIndexRetry after a failure, and
// logs what it did: counts only, never an address. It returns when done.
func (s *Service) MigrateEmailIndexInBackground(ctx context.Context) {
	for {
		rep, err := s.MigrateEmailIndex(ctx)
		switch {
		case err == nil && rep.AlreadyDone:
			return
		case err == nil:
			s.log.Info("email blind indexes migrated to the current rules", "reindexed", rep.Reindexed, "current", rep.Current, "nonconforming", rep.Nonconforming)
			return
		case ctx.Err() != nil:
			return
		}
		s.log.Error("migrating email blind indexes; lookups by email try both rules until it finishes", "err", err, "retry_in", emailIndexRetry.String())
		t := time.NewTimer(emailIndexRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
