package core

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"maps"
	"slices"

	"usercenter"
	"usercenter/vault"
)

// Personal data at rest: Phone, Email and Address are sealed by the vault
// with associated data naming the user and field, so a ciphertext moved to
// another row does not open. Exact lookups by phone or email go through
// blind indexes: HMAC-SHA256 under a random index key that is itself
// sealed in the store's meta table. Keeping the index key apart from the
// master key means a master-key rotation re-seals one value instead of
// recomputing every index. Indexes are per app, so the same phone number
// in two apps cannot be correlated from the database alone.

const metaIndexKey = "blind_index_key"

func aadMeta(name string) string { return "meta:" + name }

func aadUser(userID string, f usercenter.PIIField) string { return "user:" + userID + ":" + string(f) }

// loadIndexKey reads the blind index key, creating it on first start.
func (s *Service) loadIndexKey(ctx context.Context) error {
	sealed, err := s.store.Meta(ctx, metaIndexKey)
	if err != nil {
		return err
	}
	if sealed == nil {
		key := vault.NewKey()
		err := s.store.Update(ctx, func(tx Tx) error {
			// Another process may have created it meanwhile: keep theirs.
			cur, err := tx.Meta(ctx, metaIndexKey)
			if err != nil || cur != nil {
				sealed = cur
				return err
			}
			sealed = s.vault.Seal(key, aadMeta(metaIndexKey))
			return tx.SetMeta(ctx, metaIndexKey, sealed)
		})
		if err != nil {
			return err
		}
	}
	key, err := s.vault.Open(sealed, aadMeta(metaIndexKey))
	if err != nil {
		return ErrWrongMasterKey
	}
	s.indexKey = key
	return nil
}

// blindIndex is the lookup key of a normalised value in one app.
func (s *Service) blindIndex(sdkAppID uint64, f usercenter.PIIField, value string) []byte {
	if value == "" {
		return nil
	}
	m := hmac.New(sha256.New, s.indexKey)
	var app [8]byte
	binary.BigEndian.PutUint64(app[:], sdkAppID)
	m.Write(app[:])
	m.Write([]byte(f))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

func (s *Service) seal(userID string, f usercenter.PIIField, value string) []byte {
	if value == "" {
		return nil
	}
	return s.vault.Seal([]byte(value), aadUser(userID, f))
}

// record turns a user with plain personal data into what is stored.
func (s *Service) record(u *usercenter.User) *UserRecord {
	rec := &UserRecord{User: *u}
	rec.SealedPhone = s.seal(u.ID, usercenter.FieldPhone, u.Phone)
	rec.SealedEmail = s.seal(u.ID, usercenter.FieldEmail, u.Email)
	rec.SealedAddress = s.seal(u.ID, usercenter.FieldAddress, u.Address)
	rec.PhoneIndex = s.blindIndex(u.SdkAppID, usercenter.FieldPhone, u.Phone)
	rec.EmailIndex = s.blindIndex(u.SdkAppID, usercenter.FieldEmail, u.Email)
	rec.Phone, rec.Email, rec.Address = "", "", ""
	return rec
}

// plain opens a stored user's personal data.
func (s *Service) plain(rec *UserRecord) (*usercenter.User, error) {
	u := rec.User
	u.ThirdParty = maps.Clone(rec.ThirdParty)
	for _, f := range []struct {
		sealed []byte
		field  usercenter.PIIField
		dst    *string
	}{
		{rec.SealedPhone, usercenter.FieldPhone, &u.Phone},
		{rec.SealedEmail, usercenter.FieldEmail, &u.Email},
		{rec.SealedAddress, usercenter.FieldAddress, &u.Address},
	} {
		if f.sealed == nil {
			*f.dst = ""
			continue
		}
		pt, err := s.vault.Open(f.sealed, aadUser(rec.ID, f.field))
		if err != nil {
			return nil, usercenter.Internal(err)
		}
		*f.dst = string(pt)
	}
	return &u, nil
}

// view is a stored user of app as a caller may see it: personal data
// masked but for the fields in reveal, and the app's user domain filled in.
func (s *Service) view(ctx context.Context, app *usercenter.App, rec *UserRecord, reveal []usercenter.PIIField) (*usercenter.User, error) {
	return s.viewWith(ctx, s.store, rec, reveal, map[uint64]string{app.SdkAppID: app.UserDomain})
}

// viewWith is a stored user as a caller may see it: personal data masked
// but for the fields in reveal, and the user domain of its app filled in.
// domains caches user domains by SdkAppId for the span of one call; an
// app not in it is read from the store and added.
func (s *Service) viewWith(ctx context.Context, r Reader, rec *UserRecord, reveal []usercenter.PIIField, domains map[uint64]string) (*usercenter.User, error) {
	u, err := s.plain(rec)
	if err != nil {
		return nil, err
	}
	domain, ok := domains[u.SdkAppID]
	if !ok {
		app, err := r.App(ctx, u.SdkAppID)
		if err != nil {
			return nil, err
		}
		domain = app.UserDomain
		domains[u.SdkAppID] = domain
	}
	u.UserDomain = domain
	if !slices.Contains(reveal, usercenter.FieldPhone) {
		u.Phone = usercenter.MaskPhone(u.Phone)
	}
	if !slices.Contains(reveal, usercenter.FieldEmail) {
		u.Email = usercenter.MaskEmail(u.Email)
	}
	if !slices.Contains(reveal, usercenter.FieldAddress) {
		u.Address = usercenter.MaskAddress(u.Address)
	}
	return u, nil
}

// views is view for many users; the apps the caller has already loaded
// save reading them again.
func (s *Service) views(ctx context.Context, r Reader, recs []UserRecord, reveal []usercenter.PIIField, known ...*usercenter.App) ([]usercenter.User, error) {
	domains := map[uint64]string{}
	for _, app := range known {
		domains[app.SdkAppID] = app.UserDomain
	}
	out := make([]usercenter.User, len(recs))
	for i := range recs {
		u, err := s.viewWith(ctx, r, &recs[i], reveal, domains)
		if err != nil {
			return nil, err
		}
		out[i] = *u
	}
	return out, nil
}

// audit writes one event in tx.
func (s *Service) audit(ctx context.Context, tx Tx, actor *usercenter.Actor, u *usercenter.User, action usercenter.AuditAction, field string) error {
	return tx.InsertAudit(ctx, &usercenter.AuditEvent{
		At:        s.now().UTC(),
		SdkAppID:  u.SdkAppID,
		UserID:    u.ID,
		Action:    action,
		Field:     field,
		Actor:     actor.Name,
		RequestID: usercenter.RequestID(ctx),
	})
}

// disclose writes a reveal event for each non-empty field of reveal, in
// the transaction that reads the values: no disclosure without its record.
func (s *Service) disclose(ctx context.Context, tx Tx, actor *usercenter.Actor, rec *UserRecord, reveal []usercenter.PIIField) error {
	for i, f := range reveal {
		if slices.Contains(reveal[:i], f) {
			continue // one disclosure, one event, however often it was asked for
		}
		var sealed []byte
		switch f {
		case usercenter.FieldPhone:
			sealed = rec.SealedPhone
		case usercenter.FieldEmail:
			sealed = rec.SealedEmail
		case usercenter.FieldAddress:
			sealed = rec.SealedAddress
		}
		if sealed == nil {
			continue
		}
		if err := s.audit(ctx, tx, actor, &rec.User, usercenter.AuditReveal, string(f)); err != nil {
			return err
		}
	}
	return nil
}
