package core

import (
	"context"
	"strings"
	"time"

	"usercenter"
	"usercenter/sacipher"
)

// The super-app use cases answer the Super App as a Service platform for
// one app: whether a user exists, their nickname and avatar, and their
// phone number or email behind a one-time temporary code. The platform
// authenticates with AuthenticateSuperApp, whose actor may act on its one
// app, disabled or not: the use cases refuse a disabled app once the
// caller is known.

// ErrNoValue means the user has no such value (no nickname, avatar, phone
// or email), or the kind of value asked for is not one the API hands out.
var ErrNoValue = &usercenter.Error{Code: usercenter.ENotFound, Resource: usercenter.ResourceValue, Message: "the requested data does not exist"}

// ErrBadCode is every failure of a temporary code. Telling them apart
// would help whoever guesses.
var ErrBadCode = &usercenter.Error{Code: usercenter.ENotFound, Resource: usercenter.ResourceCode, Message: "the temporary code is wrong or has expired"}

// MaxCodeAttempts is how many wrong codes a user's deliveries tolerate
// within one code lifetime; after that every code is refused until a new
// one is issued.
const MaxCodeAttempts = 5

// maxCodeLen bounds what is hashed and looked up; codes have 35 bytes.
const maxCodeLen = 128

// superAppFor loads the one app of a super-app actor, as appFor does.
func (s *Service) superAppFor(ctx context.Context, actor *usercenter.Actor, perm usercenter.Permission) (*usercenter.App, error) {
	if len(actor.Apps) != 1 {
		return nil, usercenter.Forbidden("the super-app API acts for one app")
	}
	return s.appFor(ctx, s.store, actor, actor.Apps[0], perm)
}

// checkSuperAppUserID rejects an empty or malformed UserId.
func checkSuperAppUserID(userID string) error {
	if userID == "" {
		return usercenter.Invalid(usercenter.FieldUserID, "must not be empty")
	}
	return usercenter.CheckUserID(usercenter.FieldUserID, userID)
}

// superAppUser reads a user of app: a user of another app is not found,
// and a disabled user is refused.
func superAppUser(ctx context.Context, r Reader, app *usercenter.App, userID string) (*UserRecord, error) {
	if err := checkSuperAppUserID(userID); err != nil {
		return nil, err
	}
	rec, err := r.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	if err := superAppAdmit(app, rec.SdkAppID, rec.Status); err != nil {
		return nil, err
	}
	return rec, nil
}

// superAppCard is superAppUser for the answers that need only the user's
// card.
func superAppCard(ctx context.Context, r Reader, app *usercenter.App, userID string) (*UserCard, error) {
	if err := checkSuperAppUserID(userID); err != nil {
		return nil, err
	}
	c, err := r.UserCardInApp(ctx, app.SdkAppID, userID)
	if err != nil {
		return nil, err
	}
	if err := superAppAdmit(app, c.SdkAppID, c.Status); err != nil {
		return nil, err
	}
	return c, nil
}

// superAppAdmit refuses a user of another app as not found, and a
// disabled user.
func superAppAdmit(app *usercenter.App, sdkAppID uint64, status usercenter.UserStatus) error {
	if sdkAppID != app.SdkAppID {
		return usercenter.NotFound(usercenter.ResourceUser)
	}
	if status != usercenter.UserActive {
		return ErrUserDisabled
	}
	return nil
}

// SuperAppCheckUser reports whether app has an active user with this
// UserId. An unknown user is false, not an error; a disabled one is
// ErrUserDisabled and an empty or malformed UserId EInvalid.
func (s *Service) SuperAppCheckUser(ctx context.Context, actor *usercenter.Actor, userID string) (bool, error) {
	app, err := s.superAppFor(ctx, actor, usercenter.PermUsersRead)
	if err != nil {
		return false, err
	}
	_, err = superAppCard(ctx, s.store, app, userID)
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return false, nil
	}
	return err == nil, err
}

// SuperAppNickname returns a user's nickname; ErrNoValue when it is empty.
func (s *Service) SuperAppNickname(ctx context.Context, actor *usercenter.Actor, userID string) (string, error) {
	return s.superAppProfile(ctx, actor, userID, func(c *UserCard) string { return c.Nickname })
}

// SuperAppAvatar returns a user's avatar URL; ErrNoValue when it is empty.
func (s *Service) SuperAppAvatar(ctx context.Context, actor *usercenter.Actor, userID string) (string, error) {
	return s.superAppProfile(ctx, actor, userID, func(c *UserCard) string { return c.Avatar })
}

func (s *Service) superAppProfile(ctx context.Context, actor *usercenter.Actor, userID string, get func(*UserCard) string) (string, error) {
	app, err := s.superAppFor(ctx, actor, usercenter.PermUsersRead)
	if err != nil {
		return "", err
	}
	c, err := superAppCard(ctx, s.store, app, userID)
	if err != nil {
		return "", err
	}
	v := get(c)
	if v == "" {
		return "", ErrNoValue
	}
	return v, nil
}

// superAppField reads the Type of a temporary code request: phone or
// email, in any case. Anything else is ErrNoValue.
func superAppField(kind string) (usercenter.PIIField, error) {
	switch {
	case strings.EqualFold(kind, string(usercenter.FieldPhone)):
		return usercenter.FieldPhone, nil
	case strings.EqualFold(kind, string(usercenter.FieldEmail)):
		return usercenter.FieldEmail, nil
	}
	return "", ErrNoValue
}

// TemporaryCode is a freshly issued code and the masked value it unlocks.
type TemporaryCode struct {
	Code      string
	Masked    string
	ExpiresAt time.Time
}

// SuperAppIssueCode issues a one-time code for a user's phone number or
// email (kind "phone" or "email") and returns it with the value masked,
// for the user to recognise before consenting. The code lives the app's
// CodeTTL, is stored only as its hash, and works once, for this app, user
// and kind. Issuing a code clears the user's count of failed attempts.
//
// The checks run in this order: the UserId (EInvalid, then ENotFound or
// ErrUserDisabled), then the kind and the value (ErrNoValue).
func (s *Service) SuperAppIssueCode(ctx context.Context, actor *usercenter.Actor, userID, kind string) (*TemporaryCode, error) {
	app, err := s.superAppFor(ctx, actor, usercenter.PermPIIRead)
	if err != nil {
		return nil, err
	}
	if err := checkSuperAppUserID(userID); err != nil {
		return nil, err
	}
	var out *TemporaryCode
	err = s.store.Update(ctx, func(tx Tx) error {
		rec, err := superAppUser(ctx, tx, app, userID)
		if err != nil {
			return err
		}
		field, err := superAppField(kind)
		if err != nil {
			return err
		}
		plain, err := s.pii.openValue(rec, field)
		if err != nil {
			return err
		}
		if plain == "" {
			return ErrNoValue
		}
		masked := mask(field, plain)
		now := s.now().UTC()
		code := usercenter.NewToken()
		c := &Code{
			Hash:      usercenter.HashToken(code),
			SdkAppID:  app.SdkAppID,
			UserID:    rec.ID,
			Field:     field,
			CreatedAt: now,
			ExpiresAt: now.Add(app.CodeTTL),
		}
		if err := tx.InsertCode(ctx, c); err != nil {
			return err
		}
		if err := tx.SetCodeAttempts(ctx, app.SdkAppID, rec.ID, 0, time.Time{}); err != nil {
			return err
		}
		out = &TemporaryCode{Code: code, Masked: masked, ExpiresAt: c.ExpiresAt}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SuperAppDeliver spends a temporary code and returns the user's phone
// number or email (field) encrypted with the app's SuperAppSecretKey in
// the app's cipher. Taking the code, reading the value and writing the
// one audit event (action deliver, actor facade:superapp) are one
// transaction: a delivery that fails records nothing and hands out
// nothing.
//
// Every code failure is ErrBadCode: a code that is unknown, used or
// expired, or was issued for another user or field (such a code is spent
// by the attempt). Each failure counts against the user named in the
// request; after MaxCodeAttempts failures within the app's CodeTTL every
// code is refused until a new one is issued.
func (s *Service) SuperAppDeliver(ctx context.Context, actor *usercenter.Actor, userID string, field usercenter.PIIField, code string) (string, error) {
	app, err := s.superAppFor(ctx, actor, usercenter.PermPIIRead)
	if err != nil {
		return "", err
	}
	if field != usercenter.FieldPhone && field != usercenter.FieldEmail {
		return "", usercenter.Invalid(usercenter.FieldValueKind, "must be phone or email: only phone numbers and emails are delivered")
	}
	if err := checkSuperAppUserID(userID); err != nil {
		return "", err
	}
	var (
		out    string
		failed bool
	)
	err = s.store.Update(ctx, func(tx Tx) error {
		failed = false // a store may run fn again
		rec, err := superAppUser(ctx, tx, app, userID)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		attempts, since, err := tx.CodeAttempts(ctx, app.SdkAppID, rec.ID)
		if err != nil {
			return err
		}
		if attempts > 0 && !now.Before(since.Add(app.CodeTTL)) {
			attempts = 0 // the failures are older than any code they could guess
		}
		if attempts >= MaxCodeAttempts {
			return ErrBadCode
		}
		c, ok, err := takeCode(ctx, tx, code, now)
		if err != nil {
			return err
		}
		if !ok || c.SdkAppID != app.SdkAppID || c.UserID != rec.ID || c.Field != field || !now.Before(c.ExpiresAt) {
			// Commit the count, and the spending of a misused code.
			failed = true
			if attempts == 0 {
				since = now
			}
			return tx.SetCodeAttempts(ctx, app.SdkAppID, rec.ID, attempts+1, since)
		}
		plain, err := s.pii.openValue(rec, field)
		if err != nil {
			return err
		}
		if plain == "" {
			return ErrNoValue // the user cleared it since the code was issued
		}
		key, err := s.superAppSecret(ctx, tx, app.SdkAppID)
		if err != nil {
			return err
		}
		out, err = sacipher.Encrypt(app.SuperAppCipher, key, plain)
		if err != nil {
			return usercenter.Internal(err)
		}
		return s.audit(ctx, tx, actor, &rec.User, usercenter.AuditDeliver, field)
	})
	if err != nil {
		return "", err
	}
	if failed {
		return "", ErrBadCode
	}
	return out, nil
}

// takeCode takes the unused code presented, reporting false when there is
// none.
func takeCode(ctx context.Context, tx Tx, code string, now time.Time) (*Code, bool, error) {
	if code == "" || len(code) > maxCodeLen {
		return nil, false, nil
	}
	c, err := tx.TakeCode(ctx, usercenter.HashToken(code), now)
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// PurgeCodes deletes the temporary codes that have expired, used or not,
// and reports how many.
func (s *Service) PurgeCodes(ctx context.Context) (int, error) {
	return s.deleteExpired(ctx, Tx.DeleteExpiredCodes)
}
