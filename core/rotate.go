package core

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"usercenter"
	"usercenter/vault"
)

// AssociatedData is what each kind of sealed value was sealed with, bound
// to its row: a value copied to another row does not open there. Tools
// that check stored values without the Service (migrate-data) use it.
func AssociatedData(kind SealedKind, rowKey string) (string, error) {
	switch kind {
	case SealedAppSecret:
		id, err := strconv.ParseUint(strings.TrimLeft(rowKey, "0"), 10, 64)
		if err != nil {
			return "", fmt.Errorf("app row key %q: %w", rowKey, err)
		}
		return aadApp(id), nil
	case SealedKeySecret:
		return aadKey(rowKey), nil
	case SealedMeta:
		return aadMeta(rowKey), nil
	case SealedUserPhone:
		return aadUser(rowKey, usercenter.FieldPhone), nil
	case SealedUserEmail:
		return aadUser(rowKey, usercenter.FieldEmail), nil
	case SealedUserAddress:
		return aadUser(rowKey, usercenter.FieldAddress), nil
	case SealedConsoleTOTP:
		return aadConsoleTOTP(rowKey), nil
	case SealedWebhookSecret:
		return aadWebhook(rowKey), nil
	}
	return "", fmt.Errorf("unknown sealed kind %q", kind)
}

// RotationReport counts what a master-key rotation did.
type RotationReport struct {
	Resealed int // values re-encrypted under the new key
	Current  int // values that already were
	// ByKind counts, per kind, the stored values the final check found
	// sealed by the current key: after a successful Reseal, every value.
	ByKind map[SealedKind]int
}

// rotateBatch bounds each transaction of a rotation.
const rotateBatch = 500

// Reseal re-encrypts every stored value under ring's current key. ring
// must also hold the keys the values were sealed with. It works in
// batches, so it can be interrupted and run again; when it returns without
// error no stored value needs any key but the current one, and one audit
// event and one event (master_key.rotated) record the rotation as the
// actor's.
func Reseal(ctx context.Context, store Store, ring *vault.Keyring, actor *usercenter.Actor) (RotationReport, error) {
	var rep RotationReport
	for _, kind := range SealedKinds {
		after := ""
		for {
			var (
				page              []SealedValue
				current, resealed int
			)
			err := store.Update(ctx, func(tx Tx) error {
				// Counted afresh on every run: a store may run fn again.
				current, resealed = 0, 0
				var err error
				page, err = tx.SealedValues(ctx, kind, after, rotateBatch)
				if err != nil {
					return err
				}
				for _, v := range page {
					if ring.SealedByCurrent(v.Value) {
						current++
						continue
					}
					aad, err := AssociatedData(v.Kind, v.RowKey)
					if err != nil {
						return err
					}
					pt, err := ring.Open(v.Value, aad)
					if err != nil {
						return fmt.Errorf("%s %s cannot be decrypted with any key of the key file: %w", v.Kind, v.RowKey, err)
					}
					v.Value = ring.Seal(pt, aad)
					if err := tx.UpdateSealed(ctx, v); err != nil {
						return err
					}
					resealed++
				}
				return nil
			})
			if err != nil {
				return rep, err
			}
			rep.Current += current
			rep.Resealed += resealed
			if len(page) < rotateBatch {
				break
			}
			after = page[len(page)-1].RowKey
		}
	}
	// Check the outcome independently of the counting above.
	byKind, err := checkSealed(ctx, store, ring)
	rep.ByKind = byKind
	if err != nil {
		return rep, err
	}
	err = store.Update(ctx, func(tx Tx) error {
		now := time.Now()
		return record(ctx, tx, []*usercenter.AuditEvent{adminAudit(ctx, actor, 0, now, usercenter.AuditMasterKeyRotate, "", "")},
			[]*usercenter.Event{newEvent(actor, usercenter.EventMasterKeyRotated, 0, now, usercenter.EventData{Resealed: rep.Resealed})})
	})
	return rep, err
}

// CheckSealed checks, without changing anything, that ring's current key
// sealed every stored value, and counts them. The report's ByKind holds
// the count per kind and Current their total; Resealed is 0.
func CheckSealed(ctx context.Context, r Reader, ring *vault.Keyring) (RotationReport, error) {
	byKind, err := checkSealed(ctx, r, ring)
	if err != nil {
		return RotationReport{}, err
	}
	rep := RotationReport{ByKind: byKind}
	for _, n := range byKind {
		rep.Current += n
	}
	return rep, nil
}

// checkSealed counts the stored values of each kind, failing on the first
// one ring's current key did not seal.
func checkSealed(ctx context.Context, r Reader, ring *vault.Keyring) (map[SealedKind]int, error) {
	counts := make(map[SealedKind]int, len(SealedKinds))
	for _, kind := range SealedKinds {
		counts[kind] = 0
		after := ""
		for {
			page, err := r.SealedValues(ctx, kind, after, rotateBatch)
			if err != nil {
				return nil, err
			}
			for _, v := range page {
				if !ring.SealedByCurrent(v.Value) {
					return nil, fmt.Errorf("%s %s is still sealed by an old key", v.Kind, v.RowKey)
				}
			}
			counts[kind] += len(page)
			if len(page) < rotateBatch {
				break
			}
			after = page[len(page)-1].RowKey
		}
	}
	return counts, nil
}
