package core

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"math"
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
// Both are audited as the actor's.
func (s *Service) CreateApp(ctx context.Context, actor *usercenter.Actor, in NewApp) (*usercenter.App, *usercenter.APIKey, error) {
	if err := actor.RequireManage(0); err != nil {
		return nil, nil, err
	}
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
			if err := tx.InsertKey(ctx, s.keyRecord(key)); err != nil {
				return err
			}
			now := s.now()
			err := record(ctx, tx, []*usercenter.AuditEvent{adminAudit(ctx, actor, app.SdkAppID, now, usercenter.AuditAppCreate, "", "")},
				[]*usercenter.Event{newEvent(actor, usercenter.EventAppCreated, app.SdkAppID, now, usercenter.EventData{})})
			if err != nil {
				return err
			}
			return s.auditKey(ctx, tx, actor, key, usercenter.AuditKeyCreate, usercenter.EventKeyCreated)
		})
		if e := usercenter.ErrorOf(err); err != nil && pickID && e.Code == usercenter.EConflict && e.Field == usercenter.FieldSdkAppID && attempt < 5 {
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

// The associated data that binds a sealed secret to its row is defined
// once, in parts: vault.OpenString takes them as they are, so that the
// secret opened on every signed request is that request's only
// allocation there, and aadApp and aadKey join them for Seal and Open.
// A sealed value opens only under the bytes it was sealed with, so the
// two forms must not drift.

// aadAppParts is the associated data of app sdkAppID's sealed SuperApp
// secret, in parts; digits holds the app's decimal SdkAppId, so that a
// caller that only passes the parts on allocates nothing for them.
func aadAppParts(sdkAppID uint64, digits *[20]byte) [2]string {
	return [2]string{"app:", string(strconv.AppendUint(digits[:0], sdkAppID, 10))}
}

func aadApp(sdkAppID uint64) string {
	var digits [20]byte
	p := aadAppParts(sdkAppID, &digits)
	return strings.Join(p[:], "")
}

// aadKeyParts is the associated data of API key secretID's sealed
// secret, in parts.
func aadKeyParts(secretID string) [2]string { return [2]string{"apikey:", secretID} }

func aadKey(secretID string) string {
	p := aadKeyParts(secretID)
	return strings.Join(p[:], "")
}

// App returns one app the actor may act on, without its SuperApp secret.
// An app outside the actor's scope is not found.
func (s *Service) App(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64) (*usercenter.App, error) {
	if !actor.Scoped(sdkAppID) {
		return nil, usercenter.NotFound(usercenter.ResourceApp)
	}
	rec, err := s.store.App(ctx, sdkAppID)
	if err != nil {
		return nil, err
	}
	app := rec.App
	app.SuperAppSecretKey = ""
	return &app, nil
}

// RevealSuperAppSecret returns an app's SuperApp secret in plain, for an
// operator at the command line configuring the super-app platform (`app
// show --show-secret`): only an actor that may act on every app may ask.
func (s *Service) RevealSuperAppSecret(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64) (string, error) {
	if !actor.AllApps || !actor.ManagesApps {
		return "", usercenter.Forbidden("only an operator may read a SuperApp secret")
	}
	return s.superAppSecret(ctx, s.store, sdkAppID)
}

// superAppSecret opens an app's SuperApp secret.
func (s *Service) superAppSecret(ctx context.Context, r Reader, sdkAppID uint64) (string, error) {
	rec, err := r.App(ctx, sdkAppID)
	if err != nil {
		return "", err
	}
	app, err := s.openApp(rec)
	if err != nil {
		return "", err
	}
	return app.SuperAppSecretKey, nil
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
			return usercenter.Conflict(usercenter.FieldSuperAppSecretKey, "is already another app's; each app needs its own")
		}
	}
	return nil
}

// UpdateApp changes an app's settings in one transaction and returns the
// app as stored, its SuperApp secret included only when the patch
// replaced it (shown once, as at creation). A new SuperAppSecretKey is
// sealed under the master key like the first one; the rules of App.Validate
// apply to the result. Each setting that changed is audited as the
// actor's, by name (never its value).
func (s *Service) UpdateApp(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, p AppPatch) (*usercenter.App, error) {
	if err := actor.RequireManage(sdkAppID); err != nil {
		return nil, err
	}
	if p.SuperAppSecretKey != nil {
		for _, c := range []byte(*p.SuperAppSecretKey) {
			if c <= ' ' || c > '~' {
				return nil, usercenter.Invalid(usercenter.FieldSuperAppSecretKey, "must be printable ASCII characters without spaces")
			}
		}
	}
	if p.Status != nil && *p.Status != usercenter.AppActive && *p.Status != usercenter.AppDisabled {
		return nil, usercenter.Invalid(usercenter.FieldAppStatus, "must be active or disabled")
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
		before := *app
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
		if err := s.auditAppChanges(ctx, tx, actor, sdkAppID, appChanges(&before, app)); err != nil {
			return err
		}
		out = app
		if p.SuperAppSecretKey == nil {
			out.SuperAppSecretKey = ""
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// appChanges names the settings that differ between before and after.
func appChanges(before, after *usercenter.App) []usercenter.Field {
	var changed []usercenter.Field
	for _, c := range []struct {
		field usercenter.Field
		same  bool
	}{
		{usercenter.FieldAppName, before.Name == after.Name},
		{usercenter.FieldAppStatus, before.Status == after.Status},
		{usercenter.FieldRateLimit, before.RateLimit == after.RateLimit},
		{usercenter.FieldTokenTTL, before.TokenTTL == after.TokenTTL},
		{usercenter.FieldPhoneRegion, before.PhoneRegion == after.PhoneRegion},
		{usercenter.FieldSuperAppSecretKey, subtle.ConstantTimeCompare([]byte(before.SuperAppSecretKey), []byte(after.SuperAppSecretKey)) == 1},
		{usercenter.FieldSuperAppCipher, before.SuperAppCipher == after.SuperAppCipher},
		{usercenter.FieldCodeTTL, before.CodeTTL == after.CodeTTL},
	} {
		if !c.same {
			changed = append(changed, c.field)
		}
	}
	return changed
}

// checkEnterprisePage validates a page number (from 1) and size.
func checkEnterprisePage(page, size int) error {
	if page < 1 || page > math.MaxInt32 {
		return usercenter.Invalid(usercenter.FieldPage, "must be an integer from 1 to %d", math.MaxInt32)
	}
	if size < 1 || size > MaxEnterprisePageSize {
		return usercenter.Invalid(usercenter.FieldPageSize, "must be an integer from 1 to %d", MaxEnterprisePageSize)
	}
	return nil
}

// UserDomains returns page (from 1) of the apps the actor may act on, as
// the enterprise API's user domains, in SdkAppId order, and their number.
// Secrets are never filled in.
func (s *Service) UserDomains(ctx context.Context, actor *usercenter.Actor, page, size int) ([]usercenter.App, int, error) {
	if err := checkEnterprisePage(page, size); err != nil {
		return nil, 0, err
	}
	var apps []usercenter.App
	if actor.AllApps {
		all, err := s.store.Apps(ctx)
		if err != nil {
			return nil, 0, err
		}
		for _, rec := range all {
			apps = append(apps, rec.App)
		}
	} else {
		for _, id := range actor.Apps {
			rec, err := s.store.App(ctx, id)
			if usercenter.ErrorCode(err) == usercenter.ENotFound {
				continue
			}
			if err != nil {
				return nil, 0, err
			}
			apps = append(apps, rec.App)
		}
	}
	slices.SortFunc(apps, func(a, b usercenter.App) int {
		switch {
		case a.SdkAppID < b.SdkAppID:
			return -1
		case a.SdkAppID > b.SdkAppID:
			return 1
		}
		return 0
	})
	for i := range apps {
		apps[i].SuperAppSecretKey = ""
	}
	total := len(apps)
	start := min((page-1)*size, total)
	return apps[start:min(start+size, total)], total, nil
}

// UserCount returns how many users an app has, whatever its status: one
// count in the store, for an operator's overview of the apps.
func (s *Service) UserCount(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64) (int, error) {
	if err := actor.Require(usercenter.PermUsersRead); err != nil {
		return 0, err
	}
	if !actor.Scoped(sdkAppID) {
		return 0, usercenter.NotFound(usercenter.ResourceApp)
	}
	if _, err := s.store.App(ctx, sdkAppID); err != nil {
		return 0, err
	}
	_, total, err := s.store.ListUsers(ctx, sdkAppID, 0, 0)
	return total, err
}
