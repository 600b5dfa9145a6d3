package core

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"time"

	"usercenter"
)

// NewApp describes an app to create. Zero fields take defaults.
type NewApp struct {
	SdkAppID   uint64 // 0: pick a free one
	Name       string
	UserDomain string // "": derived from the name
	RateLimit  int
	TokenTTL   time.Duration
	// PhoneRegion is where national phone numbers are; "" means CN.
	PhoneRegion string
}

// CreateApp creates an app and its first API key, which carries every
// permission, in one transaction: there is never an app nobody can call.
func (s *Service) CreateApp(ctx context.Context, in NewApp) (*usercenter.App, *usercenter.APIKey, error) {
	app := usercenter.App{
		SdkAppID:          in.SdkAppID,
		Name:              in.Name,
		UserDomain:        in.UserDomain,
		Status:            usercenter.AppActive,
		RateLimit:         in.RateLimit,
		TokenTTL:          in.TokenTTL,
		SuperAppSecretKey: usercenter.NewSuperAppSecretKey(),
		PhoneRegion:       in.PhoneRegion,
		CreatedAt:         s.now().UTC(),
	}
	if app.PhoneRegion == "" {
		app.PhoneRegion = usercenter.DefaultPhoneRegion
	}
	app.SuperAppCipher = usercenter.CipherAESECBHex
	app.CodeTTL = usercenter.DefaultCodeTTL
	if app.RateLimit == 0 {
		app.RateLimit = usercenter.DefaultRateLimit
	}
	if app.TokenTTL == 0 {
		app.TokenTTL = usercenter.DefaultTokenTTL
	}
	deriveDomain := app.UserDomain == ""
	pickID := app.SdkAppID == 0
	for attempt := 0; ; attempt++ {
		if pickID {
			app.SdkAppID = randomSdkAppID()
		}
		if deriveDomain {
			app.UserDomain = slug(app.Name)
			if app.UserDomain == "" {
				app.UserDomain = "app-" + strconv.FormatUint(app.SdkAppID, 10)
			}
		}
		if err := app.Validate(); err != nil {
			return nil, nil, err
		}
		key := s.newKey(app.Name+" (first key)", []uint64{app.SdkAppID}, usercenter.AllPermissions)
		err := s.store.Update(ctx, func(tx Tx) error {
			rec := &AppRecord{App: app, SealedSuperAppSecret: s.vault.Seal([]byte(app.SuperAppSecretKey), aadApp(app.SdkAppID))}
			rec.SuperAppSecretKey = ""
			if err := tx.InsertApp(ctx, rec); err != nil {
				return err
			}
			return tx.InsertKey(ctx, s.keyRecord(key))
		})
		if e := usercenter.ErrorOf(err); err != nil && pickID && e.Code == usercenter.EConflict && e.Field == "SdkAppId" && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		return &app, key, nil
	}
}

// randomSdkAppID picks an ID in the range LCIC uses, 1400000000–1499999999.
func randomSdkAppID() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return 1400000000 + binary.BigEndian.Uint64(b[:])%100000000
}

// slug turns an app name into a user domain: lower case, with runs of
// other characters collapsed to '-'.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimSuffix(b.String(), "-")
	if len(out) > 64 {
		out = strings.TrimSuffix(out[:64], "-")
	}
	return out
}

func aadApp(sdkAppID uint64) string { return "app:" + strconv.FormatUint(sdkAppID, 10) }
func aadKey(secretID string) string { return "apikey:" + secretID }

// App returns an app with its SuperApp secret decrypted.
func (s *Service) App(ctx context.Context, sdkAppID uint64) (*usercenter.App, error) {
	rec, err := s.store.App(ctx, sdkAppID)
	if err != nil {
		return nil, err
	}
	return s.openApp(rec)
}

func (s *Service) openApp(rec *AppRecord) (*usercenter.App, error) {
	secret, err := s.vault.Open(rec.SealedSuperAppSecret, aadApp(rec.SdkAppID))
	if err != nil {
		return nil, usercenter.Internal(err)
	}
	app := rec.App
	app.SuperAppSecretKey = string(secret)
	return &app, nil
}

// Apps lists every app, without secrets.
func (s *Service) Apps(ctx context.Context) ([]usercenter.App, error) {
	recs, err := s.store.Apps(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]usercenter.App, len(recs))
	for i, r := range recs {
		out[i] = r.App
	}
	return out, nil
}

// CreateKey creates an API key for apps with perms. The returned key is
// the only time its SecretKey is shown.
func (s *Service) CreateKey(ctx context.Context, name string, apps []uint64, perms []usercenter.Permission) (*usercenter.APIKey, error) {
	if len(apps) == 0 {
		return nil, usercenter.Invalid("Apps", "a key needs at least one app")
	}
	if len(perms) == 0 {
		return nil, usercenter.Invalid("Permissions", "a key needs at least one permission")
	}
	if name == "" {
		name = "key"
	}
	if err := usercenter.CheckNickname("Name", name); err != nil {
		return nil, err
	}
	key := s.newKey(name, apps, perms)
	err := s.store.Update(ctx, func(tx Tx) error { return tx.InsertKey(ctx, s.keyRecord(key)) })
	if err != nil {
		return nil, err
	}
	return key, nil
}

func (s *Service) newKey(name string, apps []uint64, perms []usercenter.Permission) *usercenter.APIKey {
	apps = slices.Clone(apps)
	slices.Sort(apps)
	return &usercenter.APIKey{
		SecretID:    usercenter.NewSecretID(),
		SecretKey:   usercenter.NewSecretKey(),
		Name:        name,
		Apps:        slices.Compact(apps),
		Permissions: slices.Clone(perms),
		CreatedAt:   s.now().UTC(),
	}
}

func (s *Service) keyRecord(k *usercenter.APIKey) *KeyRecord {
	rec := &KeyRecord{APIKey: *k, SealedSecretKey: s.vault.Seal([]byte(k.SecretKey), aadKey(k.SecretID))}
	rec.SecretKey = ""
	return rec
}

// Keys lists every key, revoked ones included, without secrets.
func (s *Service) Keys(ctx context.Context) ([]usercenter.APIKey, error) {
	recs, err := s.store.Keys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]usercenter.APIKey, len(recs))
	for i, r := range recs {
		out[i] = r.APIKey
	}
	return out, nil
}

// RevokeKey revokes a key at once; requests signed with it fail from now on.
func (s *Service) RevokeKey(ctx context.Context, secretID string) error {
	return s.store.Update(ctx, func(tx Tx) error { return tx.RevokeKey(ctx, secretID, s.now().UTC()) })
}

// Key returns a live key with its SecretKey decrypted, for verifying a
// request's signature. A revoked key is reported as not found.
func (s *Service) Key(ctx context.Context, secretID string) (*usercenter.APIKey, error) {
	rec, err := s.store.Key(ctx, secretID)
	if err != nil {
		return nil, err
	}
	if rec.Revoked() {
		return nil, usercenter.NotFound(usercenter.ResourceKey)
	}
	secret, err := s.vault.Open(rec.SealedSecretKey, aadKey(rec.SecretID))
	if err != nil {
		return nil, usercenter.Internal(err)
	}
	key := rec.APIKey
	key.SecretKey = string(secret)
	return &key, nil
}

// AppPatch lists the settings to change on an app; nil fields stay as
// they are. SdkAppId and UserDomain never change.
type AppPatch struct {
	Name        *string
	Status      *usercenter.AppStatus
	RateLimit   *int
	TokenTTL    *time.Duration
	PhoneRegion *string
	// SuperAppSecretKey is the key the super-app platform signs with and
	// values are encrypted for: 16, 24 or 32 printable ASCII characters,
	// the key of the platform console's backend service configuration.
	SuperAppSecretKey *string
	SuperAppCipher    *usercenter.SuperAppCipher
	CodeTTL           *time.Duration
}

// checkSecretUnique refuses a SuperApp secret that another app already
// has: the secret authenticates the platform, so a shared one would let
// one app's platform credentials call for the other app's users.
func (s *Service) checkSecretUnique(ctx context.Context, r Reader, app *usercenter.App) error {
	apps, err := r.Apps(ctx)
	if err != nil {
		return err
	}
	for i := range apps {
		if apps[i].SdkAppID == app.SdkAppID {
			continue
		}
		other, err := s.openApp(&apps[i])
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(other.SuperAppSecretKey), []byte(app.SuperAppSecretKey)) == 1 {
			return &usercenter.Error{Code: usercenter.EConflict, Field: "SuperAppSecretKey", Message: "another app already uses this SuperAppSecretKey; each app needs its own"}
		}
	}
	return nil
}

// UpdateApp changes an app's settings in one transaction and returns the
// app as stored, its SuperApp secret included. A new SuperAppSecretKey is
// sealed under the master key like the first one; the rules of App.Validate
// apply to the result.
func (s *Service) UpdateApp(ctx context.Context, sdkAppID uint64, p AppPatch) (*usercenter.App, error) {
	if p.SuperAppSecretKey != nil {
		for _, c := range []byte(*p.SuperAppSecretKey) {
			if c <= ' ' || c > '~' {
				return nil, usercenter.Invalid("SuperAppSecretKey", "SuperAppSecretKey must be printable ASCII characters without spaces")
			}
		}
	}
	if p.Status != nil && *p.Status != usercenter.AppActive && *p.Status != usercenter.AppDisabled {
		return nil, usercenter.Invalid("Status", "Status must be active or disabled")
	}
	var out *usercenter.App
	err := s.store.Update(ctx, func(tx Tx) error {
		rec, err := tx.App(ctx, sdkAppID)
		if err != nil {
			return err
		}
		app, err := s.openApp(rec)
		if err != nil {
			return err
		}
		if p.Name != nil {
			app.Name = *p.Name
		}
		if p.Status != nil {
			app.Status = *p.Status
		}
		if p.RateLimit != nil {
			app.RateLimit = *p.RateLimit
		}
		if p.TokenTTL != nil {
			app.TokenTTL = *p.TokenTTL
		}
		if p.PhoneRegion != nil {
			app.PhoneRegion = *p.PhoneRegion
		}
		if p.SuperAppSecretKey != nil {
			app.SuperAppSecretKey = *p.SuperAppSecretKey
		}
		if p.SuperAppCipher != nil {
			app.SuperAppCipher = *p.SuperAppCipher
		}
		if p.CodeTTL != nil {
			app.CodeTTL = *p.CodeTTL
		}
		if err := app.Validate(); err != nil {
			return err
		}
		if p.SuperAppSecretKey != nil {
			if err := s.checkSecretUnique(ctx, tx, app); err != nil {
				return err
			}
		}
		next := &AppRecord{App: *app, SealedSuperAppSecret: s.vault.Seal([]byte(app.SuperAppSecretKey), aadApp(app.SdkAppID))}
		next.SuperAppSecretKey = ""
		if err := tx.UpdateApp(ctx, next); err != nil {
			return err
		}
		out = app
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
