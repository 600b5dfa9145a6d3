package core

import (
	"context"
	"slices"

	"usercenter"
)

// API keys sign the calls of an app's servers. A key's secret is sealed
// at rest and shown once, when the key is created; authentication opens
// it inside core (auth.go).

// CreateKey creates an API key for apps with perms, audited as the
// actor's. The returned key is the only time its SecretKey is shown.
func (s *Service) CreateKey(ctx context.Context, actor *usercenter.Actor, name string, apps []uint64, perms []usercenter.Permission) (*usercenter.APIKey, error) {
	if len(apps) == 0 {
		return nil, usercenter.Invalid(usercenter.FieldKeyApps, "must name at least one app")
	}
	for _, app := range apps {
		if err := actor.RequireManage(app); err != nil {
			return nil, err
		}
	}
	if len(perms) == 0 {
		return nil, usercenter.Invalid(usercenter.FieldPermissions, "must name at least one permission")
	}
	for _, p := range perms {
		if !slices.Contains(usercenter.AllPermissions, p) {
			return nil, usercenter.Invalid(usercenter.FieldPermissions, "names an unknown permission %q", usercenter.ClipName(string(p), 32))
		}
	}
	if name == "" {
		name = "key"
	}
	if err := usercenter.CheckNickname(usercenter.FieldKeyName, name); err != nil {
		return nil, err
	}
	key := s.newKey(name, apps, perms)
	err := s.store.Update(ctx, func(tx Tx) error {
		if err := tx.InsertKey(ctx, s.keyRecord(key)); err != nil {
			return err
		}
		return s.auditKey(ctx, tx, actor, key, usercenter.AuditKeyCreate, usercenter.EventKeyCreated)
	})
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

// AppKeys lists the keys of one app the actor manages, revoked ones
// included, without secrets, oldest first.
func (s *Service) AppKeys(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64) ([]usercenter.APIKey, error) {
	if err := actor.RequireManage(sdkAppID); err != nil {
		return nil, err
	}
	if _, err := s.store.App(ctx, sdkAppID); err != nil {
		return nil, err
	}
	recs, err := s.store.Keys(ctx)
	if err != nil {
		return nil, err
	}
	var out []usercenter.APIKey
	for _, r := range recs {
		if slices.Contains(r.Apps, sdkAppID) {
			out = append(out, r.APIKey)
		}
	}
	return out, nil
}

// RevokeKey revokes a key at once, audited as the actor's; requests
// signed with it fail from now on.
func (s *Service) RevokeKey(ctx context.Context, actor *usercenter.Actor, secretID string) error {
	return s.store.Update(ctx, func(tx Tx) error {
		rec, err := tx.Key(ctx, secretID)
		if err != nil {
			return err
		}
		for _, app := range rec.Apps {
			if err := actor.RequireManage(app); err != nil {
				return err
			}
		}
		if err := tx.RevokeKey(ctx, secretID, s.now().UTC()); err != nil {
			return err
		}
		return s.auditKey(ctx, tx, actor, &rec.APIKey, usercenter.AuditKeyRevoke, usercenter.EventKeyRevoked)
	})
}
