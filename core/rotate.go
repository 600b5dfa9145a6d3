package core

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"usercenter"
	"usercenter/vault"
)

// aadFor is the associated data each kind of sealed value was sealed with.
func aadFor(kind SealedKind, rowKey string) (string, error) {
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
	}
	return "", fmt.Errorf("unknown sealed kind %q", kind)
}

// RotationReport counts what a master-key rotation did.
type RotationReport struct {
	Resealed int // values re-encrypted under the new key
	Current  int // values that already were
}

// rotateBatch bounds each transaction of a rotation.
const rotateBatch = 500

// Reseal re-encrypts every stored value under ring's current key. ring
// must also hold the keys the values were sealed with. It works in
// batches, so it can be interrupted and run again; when it returns without
// error no stored value needs any key but the current one.
func Reseal(ctx context.Context, store Store, ring *vault.Keyring) (RotationReport, error) {
	var rep RotationReport
	for _, kind := range SealedKinds {
		after := ""
		for {
			var page []SealedValue
			err := store.Update(ctx, func(tx Tx) error {
				var err error
				page, err = tx.SealedValues(ctx, kind, after, rotateBatch)
				if err != nil {
					return err
				}
				for _, v := range page {
					if ring.SealedByCurrent(v.Value) {
						rep.Current++
						continue
					}
					aad, err := aadFor(v.Kind, v.RowKey)
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
					rep.Resealed++
				}
				return nil
			})
			if err != nil {
				return rep, err
			}
			if len(page) < rotateBatch {
				break
			}
			after = page[len(page)-1].RowKey
		}
	}
	// Check the outcome independently of the counting above.
	for _, kind := range SealedKinds {
		after := ""
		for {
			page, err := store.SealedValues(ctx, kind, after, rotateBatch)
			if err != nil {
				return rep, err
			}
			for _, v := range page {
				if !ring.SealedByCurrent(v.Value) {
					return rep, fmt.Errorf("%s %s is still sealed by an old key", v.Kind, v.RowKey)
				}
			}
			if len(page) < rotateBatch {
				break
			}
			after = page[len(page)-1].RowKey
		}
	}
	return rep, nil
}
