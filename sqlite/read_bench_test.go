package sqlite

import (
	"context"
	"fmt"
	"testing"

	"usercenter"
	"usercenter/core"
)

// BenchmarkPointRead reads one user, one user's card, and one key, by
// primary key, under a plain context and under a cancellable one, as a
// request's is.
func BenchmarkPointRead(b *testing.B) {
	s := openStore(b)
	addApps(b, s, 1)
	const n = 1000
	ids := make([]string, n)
	update(b, s, func(tx core.Tx) error {
		for i := range ids {
			// As the load tool seeds them: a nickname, a phone and an
			// email, no third-party links.
			u := newUser(1, fmt.Sprint("origin", i), base)
			u.Nickname = fmt.Sprint("user ", i)
			u.SealedPhone = []byte("sealed-phone-0123456789012345678901234567890123")
			u.SealedEmail = []byte("sealed-email-0123456789012345678901234567890123")
			ids[i] = u.ID
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		return tx.InsertKey(ctx, &core.KeyRecord{
			APIKey:          usercenter.APIKey{SecretID: "key", Apps: []uint64{1}, Permissions: []usercenter.Permission{usercenter.PermUsersRead}, CreatedAt: base},
			SealedSecretKey: []byte("sealed"),
		})
	})
	cancellable, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{{"background", ctx}, {"cancellable", cancellable}} {
		b.Run("user/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.User(c.ctx, ids[i%n]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("card/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.UserCard(c.ctx, ids[i%n]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("key/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Key(c.ctx, "key"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
