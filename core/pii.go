package core

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

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
//
// piiVault is the one door to that data, as Kratos keeps a privileged
// identity pool beside its plain one: the rest of core handles
// UserRecords, whose personal data stays sealed, and asks piiVault for
// masked views. Plain values come out only through disclose, which takes
// the transaction that must also hold their audit events, and open, which
// the delivery path and updates use inside theirs.
type piiVault struct {
	vault *vault.Keyring
	// indexKey keys the blind indexes of phone numbers and emails.
	indexKey []byte
}

const metaIndexKey = "blind_index_key"

func aadMeta(name string) string { return "meta:" + name }

// aadUserParts is the associated data of field f of user userID, in
// parts, as aadAppParts is for apps: reads open users' fields on every
// request.
func aadUserParts(userID string, f usercenter.PIIField) [4]string {
	return [4]string{"user:", userID, ":", string(f)}
}

func aadUser(userID string, f usercenter.PIIField) string {
	p := aadUserParts(userID, f)
	return strings.Join(p[:], "")
}

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
			if err := tx.SetMeta(ctx, metaIndexKey, sealed); err != nil {
				return err
			}
			// No index exists yet: every one will follow the current rules.
			return s.setSealedMeta(ctx, tx, metaEmailIndexVersion, []byte(emailIndexVersion))
		})
		if err != nil {
			return err
		}
	}
	key, err := s.vault.Open(sealed, aadMeta(metaIndexKey))
	if err != nil {
		return ErrWrongMasterKey
	}
	s.pii = &piiVault{vault: s.vault, indexKey: key}
	return nil
}

// indexer computes blind indexes with one keyed HMAC, reset between
// values: resetting costs less than keying a new one for each.
type indexer struct {
	m   hash.Hash
	buf []byte
}

func (p *piiVault) indexer() *indexer { return &indexer{m: hmac.New(sha256.New, p.indexKey)} }

// index is the lookup key of a normalised value in one app.
func (x *indexer) index(sdkAppID uint64, f usercenter.PIIField, value string) []byte {
	if value == "" {
		return nil
	}
	x.m.Reset()
	x.buf = binary.BigEndian.AppendUint64(x.buf[:0], sdkAppID)
	x.buf = append(x.buf, f...)
	x.buf = append(x.buf, 0)
	x.buf = append(x.buf, value...)
	x.m.Write(x.buf)
	return x.m.Sum(nil)
}

// blindIndex is the lookup key of one normalised value.
func (p *piiVault) blindIndex(sdkAppID uint64, f usercenter.PIIField, value string) []byte {
	return p.indexer().index(sdkAppID, f, value)
}

// seal turns users with plain personal data into what is stored: the one
// place personal data is sealed and indexed.
func (p *piiVault) seal(users ...*usercenter.User) []*UserRecord {
	idx := p.indexer()
	all := make([]UserRecord, len(users))
	recs := make([]*UserRecord, len(users))
	for i, u := range users {
		rec := &all[i]
		rec.User = *u
		rec.SealedPhone = p.sealValue(u.ID, usercenter.FieldPhone, u.Phone)
		rec.SealedEmail = p.sealValue(u.ID, usercenter.FieldEmail, u.Email)
		rec.SealedAddress = p.sealValue(u.ID, usercenter.FieldAddress, u.Address)
		rec.PhoneIndex = idx.index(u.SdkAppID, usercenter.FieldPhone, u.Phone)
		// An email stored under older rules is indexed by its canonical
		// form, as the migration indexes it (see MigrateEmailIndex).
		rec.EmailIndex = idx.index(u.SdkAppID, usercenter.FieldEmail, usercenter.CanonicalEmail(u.Email))
		rec.Phone, rec.Email, rec.Address = "", "", ""
		recs[i] = rec
	}
	return recs
}

func (p *piiVault) sealValue(userID string, f usercenter.PIIField, value string) []byte {
	if value == "" {
		return nil
	}
	return p.vault.Seal([]byte(value), aadUser(userID, f))
}

// piiOf is where a user holds one personal-data field.
func piiOf(u *usercenter.User, f usercenter.PIIField) *string {
	switch f {
	case usercenter.FieldPhone:
		return &u.Phone
	case usercenter.FieldEmail:
		return &u.Email
	}
	return &u.Address
}

// mask is a personal-data field's value as ordinary reads show it.
func mask(f usercenter.PIIField, v string) string {
	switch f {
	case usercenter.FieldPhone:
		return usercenter.MaskPhone(v)
	case usercenter.FieldEmail:
		return usercenter.MaskEmail(v)
	}
	return usercenter.MaskAddress(v)
}

// sealed is the ciphertext of one personal-data field of a stored user.
func sealed(rec *UserRecord, f usercenter.PIIField) []byte {
	switch f {
	case usercenter.FieldPhone:
		return rec.SealedPhone
	case usercenter.FieldEmail:
		return rec.SealedEmail
	case usercenter.FieldAddress:
		return rec.SealedAddress
	}
	return nil
}

// openValue opens one field of a stored user; "" when it has none.
func (p *piiVault) openValue(rec *UserRecord, f usercenter.PIIField) (string, error) {
	c := sealed(rec, f)
	if c == nil {
		return "", nil
	}
	// The vault joins the parts in a buffer it reuses, and the value is
	// the only allocation.
	aad := aadUserParts(rec.ID, f)
	v, err := p.vault.OpenString(c, aad[:]...)
	if err != nil {
		return "", usercenter.Internal(err)
	}
	return v, nil
}

// open is a stored user with plain personal data, for a use case that
// changes it inside tx and seals it again: nothing leaves the transaction
// in plain.
func (p *piiVault) open(_ Tx, rec *UserRecord) (*usercenter.User, error) {
	u := rec.User
	u.ThirdParty = maps.Clone(rec.ThirdParty)
	for _, f := range usercenter.PIIFields {
		v, err := p.openValue(rec, f)
		if err != nil {
			return nil, err
		}
		*piiOf(&u, f) = v
	}
	return &u, nil
}

// masked is a stored user as anyone who may read it sees it: personal data
// masked, the user domain of its app filled in.
func (p *piiVault) masked(rec *UserRecord, userDomain string) (*usercenter.User, error) {
	u := rec.User
	u.ThirdParty = maps.Clone(rec.ThirdParty)
	u.UserDomain = userDomain
	for _, f := range usercenter.PIIFields {
		v, err := p.openValue(rec, f)
		if err != nil {
			return nil, err
		}
		*piiOf(&u, f) = mask(f, v)
	}
	return &u, nil
}

// disclose is a stored user with the fields of reveal in plain and the
// rest masked. It writes, in tx, one reveal event per field it shows that
// has a value: no disclosure without its record.
func (p *piiVault) disclose(ctx context.Context, s *Service, tx Tx, actor *usercenter.Actor, rec *UserRecord, userDomain string, reveal []usercenter.PIIField) (*usercenter.User, error) {
	u, err := p.masked(rec, userDomain)
	if err != nil {
		return nil, err
	}
	for i, f := range reveal {
		if slices.Contains(reveal[:i], f) || sealed(rec, f) == nil {
			continue // one disclosure, one event, however often it was asked for
		}
		v, err := p.openValue(rec, f)
		if err != nil {
			return nil, err
		}
		*piiOf(u, f) = v
		if err := s.audit(ctx, tx, actor, &rec.User, usercenter.AuditReveal, f); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// reveal checks that the actor may see plain personal data, and, if it
// must say why, that it did (RevealUser).
func reveal(ctx context.Context, actor *usercenter.Actor, fields []usercenter.PIIField) error {
	if len(fields) == 0 {
		return nil
	}
	if !actor.Has(usercenter.PermPIIRead) {
		return usercenter.Forbidden("revealing personal data needs the %s permission", usercenter.PermPIIRead)
	}
	if actor.NeedsReason && reasonOf(ctx) == "" {
		return usercenter.Invalid(usercenter.FieldReason, "is required to reveal personal data")
	}
	return nil
}

// MaxReasonLen bounds the reason of a disclosure, in bytes.
const MaxReasonLen = 500

type reasonKey struct{}

// reasonOf is the reason RevealUser was given, or "".
func reasonOf(ctx context.Context) string {
	r, _ := ctx.Value(reasonKey{}).(string)
	return r
}

// RevealUser is GetUser for an operator who must say why they look
// (Actor.NeedsReason, a console account): the written reason goes into
// the audit event of every disclosure, in the transaction that reads the
// values.
func (s *Service) RevealUser(ctx context.Context, actor *usercenter.Actor, userID string, fields []usercenter.PIIField, reason string) (*usercenter.User, error) {
	ctx, err := withReason(ctx, reason)
	if err != nil {
		return nil, err
	}
	return s.GetUser(ctx, actor, userID, fields)
}

// withReason checks an operator's written reason for disclosures, and
// gives it to the audit events written under ctx.
func withReason(ctx context.Context, reason string) (context.Context, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ctx, usercenter.Invalid(usercenter.FieldReason, "is required to reveal personal data")
	}
	if len(reason) > MaxReasonLen || !utf8.ValidString(reason) || strings.ContainsFunc(reason, unicode.IsControl) {
		return ctx, usercenter.Invalid(usercenter.FieldReason, "must be one line of at most %d bytes of UTF-8", MaxReasonLen)
	}
	return context.WithValue(ctx, reasonKey{}, reason), nil
}

// domains fills in user domains by SdkAppId for the span of one call; an
// app not in it is read and added.
type domains map[uint64]string

func (d domains) of(ctx context.Context, r Reader, sdkAppID uint64) (string, error) {
	if v, ok := d[sdkAppID]; ok {
		return v, nil
	}
	app, err := r.App(ctx, sdkAppID)
	if err != nil {
		return "", err
	}
	d[sdkAppID] = app.UserDomain
	return app.UserDomain, nil
}

// read runs find and returns the users it finds as the actor may see them.
// When fields are revealed find runs in a write transaction that also
// records each disclosure: if the audit event cannot be written, nothing
// is disclosed.
func (s *Service) read(ctx context.Context, actor *usercenter.Actor, fields []usercenter.PIIField, known domains, find func(Reader) ([]UserRecord, error)) ([]usercenter.User, error) {
	return s.readIn(ctx, actor, fields, known, find, false)
}

// readIn is read, with find run in a transaction even when nothing is
// revealed if inTx: a read through the Tx is of what is committed, past
// any copy the store keeps of it (storecache's).
func (s *Service) readIn(ctx context.Context, actor *usercenter.Actor, fields []usercenter.PIIField, known domains, find func(Reader) ([]UserRecord, error), inTx bool) ([]usercenter.User, error) {
	if err := reveal(ctx, actor, fields); err != nil {
		return nil, err
	}
	// view discloses through tx, or masks when tx is nil.
	view := func(r Reader, tx Tx) ([]usercenter.User, error) {
		recs, err := find(r)
		if err != nil {
			return nil, err
		}
		out := make([]usercenter.User, len(recs))
		for i := range recs {
			domain, err := known.of(ctx, r, recs[i].SdkAppID)
			if err != nil {
				return nil, err
			}
			var u *usercenter.User
			if tx == nil {
				u, err = s.pii.masked(&recs[i], domain)
			} else {
				u, err = s.pii.disclose(ctx, s, tx, actor, &recs[i], domain, fields)
			}
			if err != nil {
				return nil, err
			}
			out[i] = *u
		}
		return out, nil
	}
	if len(fields) == 0 && !inTx {
		return view(s.store, nil)
	}
	var out []usercenter.User
	err := s.store.Update(ctx, func(tx Tx) error {
		var disclose Tx
		if len(fields) > 0 {
			disclose = tx
		}
		var err error
		out, err = view(tx, disclose)
		return err
	})
	return out, err
}
