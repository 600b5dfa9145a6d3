package core

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"

	"usercenter"
)

// MaxImportUsers is the most users one ImportUsers call creates.
const MaxImportUsers = 1000

// Imported is a user ImportUsers created.
type Imported struct {
	UserID   string
	OriginID string
}

// ImportUsers creates users in an app, each from a patch over an empty
// profile exactly as CreateUser creates one, in one transaction: every
// user is created or none is. Everything is checked before anything is
// written; an error about one user is an EInvalid or EConflict whose Field
// names it and its field, as "users.<index>.<field>" (users.3.phone,
// users.5.originId, users.7.thirdPartyIds.qq), and its Message starts
// with "users.<index>: ". Two users of the batch with the same OriginId
// or third-party ID conflict as they would with a stored user.
//
// Each user gets the audit event CreateUser writes (create, no field), in
// the same transaction. The users' CreatedAt increase by a nanosecond
// each, so that creation order, and UserId order, is the order given.
func (s *Service) ImportUsers(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, in []UserPatch) ([]Imported, error) {
	app, err := s.appFor(ctx, s.store, actor, sdkAppID, usercenter.PermUsersWrite)
	if err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, usercenter.Invalid("users", "users must list at least one user")
	}
	if len(in) > MaxImportUsers {
		return nil, usercenter.Invalid("users", "users must list at most %d users; import more in several requests", MaxImportUsers)
	}
	now := s.now().UTC()
	type linkKey struct {
		p  usercenter.Provider
		id string
	}
	origins := make(map[string]int, len(in))
	var links map[linkKey]int
	users := make([]usercenter.User, len(in))
	for i := range in {
		at := now.Add(time.Duration(i))
		u := &users[i]
		*u = usercenter.User{ID: usercenter.NewUserID(at), SdkAppID: sdkAppID, Status: usercenter.UserActive, CreatedAt: at, UpdatedAt: at}
		u.LogonMode = usercenter.LogonAPI
		if _, err := in[i].apply(u, app); err != nil {
			return nil, itemError(i, err)
		}
		if u.OriginID == "" {
			u.OriginID = u.ID
		}
		if j, dup := origins[u.OriginID]; dup {
			return nil, itemConflict(i, "originId", "has the same originId as users.%d", j)
		}
		origins[u.OriginID] = i
		for p, id := range u.ThirdParty {
			if id == "" {
				continue
			}
			if links == nil {
				links = make(map[linkKey]int)
			}
			k := linkKey{p, id}
			if j, dup := links[k]; dup {
				return nil, itemConflict(i, "thirdPartyIds."+string(p), "has the same %s ID as users.%d", p, j)
			}
			links[k] = i
		}
	}

	recs := s.records(users)
	out := make([]Imported, len(users))
	for i := range users {
		out[i] = Imported{UserID: users[i].ID, OriginID: users[i].OriginID}
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.InsertUsers(ctx, recs); err != nil {
			return err
		}
		// Built afresh on every run of fn: the store sets their IDs.
		at := s.now().UTC()
		events := make([]*usercenter.AuditEvent, len(users))
		all := make([]usercenter.AuditEvent, len(users))
		for i := range users {
			all[i] = usercenter.AuditEvent{
				At: at, SdkAppID: sdkAppID, UserID: users[i].ID, Action: usercenter.AuditCreate,
				Actor: actor.Name, RequestID: usercenter.RequestID(ctx),
			}
			events[i] = &all[i]
		}
		return tx.InsertAudits(ctx, events)
	})
	if err != nil {
		var ie *ItemError
		if errors.As(err, &ie) {
			return nil, itemError(ie.Index, ie.Err)
		}
		return nil, err
	}
	return out, nil
}

// itemError names user i of a batch in a domain error about one of its
// fields. A store's conflict names the field as the LCIC facade spells it
// (OriginId); here it takes the REST API's spelling, as the rest of the
// field path does.
func itemError(i int, err error) error {
	e := usercenter.ErrorOf(err)
	if e.Code != usercenter.EInvalid && e.Code != usercenter.EConflict {
		return err
	}
	out := *e
	out.Err = err
	field := e.Field
	if field != "" && field[0] >= 'A' && field[0] <= 'Z' {
		field = strings.ToLower(field[:1]) + field[1:]
	}
	out.Field = fmt.Sprintf("users.%d", i)
	if field != "" {
		out.Field += "." + field
	}
	out.Message = fmt.Sprintf("users.%d: %s", i, e.Message)
	return &out
}

func itemConflict(i int, field, format string, args ...any) error {
	return &usercenter.Error{
		Code:    usercenter.EConflict,
		Field:   fmt.Sprintf("users.%d.%s", i, field),
		Message: fmt.Sprintf("users.%d: ", i) + fmt.Sprintf(format, args...),
	}
}

// records is record for many users, with one keyed HMAC for all their
// blind indexes: resetting it costs less than keying a new one for each.
func (s *Service) records(users []usercenter.User) []*UserRecord {
	idx := &indexer{m: hmac.New(sha256.New, s.indexKey)}
	recs := make([]*UserRecord, len(users))
	all := make([]UserRecord, len(users))
	for i := range users {
		u := &users[i]
		rec := &all[i]
		rec.User = *u
		rec.SealedPhone = s.seal(u.ID, usercenter.FieldPhone, u.Phone)
		rec.SealedEmail = s.seal(u.ID, usercenter.FieldEmail, u.Email)
		rec.SealedAddress = s.seal(u.ID, usercenter.FieldAddress, u.Address)
		rec.PhoneIndex = idx.index(u.SdkAppID, usercenter.FieldPhone, u.Phone)
		rec.EmailIndex = idx.index(u.SdkAppID, usercenter.FieldEmail, u.Email)
		rec.Phone, rec.Email, rec.Address = "", "", ""
		recs[i] = rec
	}
	return recs
}

// indexer computes blindIndex with one HMAC, reset between values.
type indexer struct {
	m   hash.Hash
	buf []byte
}

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
