package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

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

// BenchmarkRandomRead reads users picked at random among 100,000, as the
// load tool's read scenarios do, so that most reads miss SQLite's page
// cache: the whole user (User) against its card (UserCard, and
// UserCardInApp from the app's card index), and a login token. cpu-ns/op is
// the process's CPU time (user and system) per read, which a busy
// machine moves far less than ns/op.
//
//	go test ./sqlite -run '^$' -bench RandomRead -benchtime 2s -count 3
func BenchmarkRandomRead(b *testing.B) {
	s := openStore(b)
	addApps(b, s, 1)
	const n, batch = 100000, 1000
	ids := make([]string, 0, n)
	tokens := make([][]byte, 0, n)
	for len(ids) < n {
		users := make([]*core.UserRecord, batch)
		toks := make([]*core.Token, batch)
		for i := range users {
			// As the load tool seeds them: a nickname, a phone and an
			// email with their blind indexes, no third-party links; and
			// a login token each, keyed as the Service keys them.
			k := len(ids)
			u := newUser(1, fmt.Sprint("origin", k), base)
			u.Nickname = fmt.Sprint("user ", k)
			u.SealedPhone = []byte("sealed-phone-0123456789012345678901234567890123")
			u.SealedEmail = []byte("sealed-email-0123456789012345678901234567890123")
			u.PhoneIndex = []byte(fmt.Sprintf("phone-index-%020d", k))
			u.EmailIndex = []byte(fmt.Sprintf("email-index-%020d", k))
			users[i] = u
			ids = append(ids, u.ID)
			now := base.Add(time.Duration(k) * time.Millisecond)
			toks[i] = &core.Token{Hash: usercenter.TokenKey(usercenter.NewLoginToken(now)), UserID: u.ID, SdkAppID: 1,
				CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
			tokens = append(tokens, toks[i].Hash)
		}
		update(b, s, func(tx core.Tx) error {
			if err := tx.InsertUsers(ctx, users); err != nil {
				return err
			}
			for _, t := range toks {
				if err := tx.InsertToken(ctx, t); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for _, c := range []struct {
		name string
		read func(k int) error
	}{
		{"user", func(k int) error { _, err := s.User(ctx, ids[k]); return err }},
		{"card", func(k int) error { _, err := s.UserCard(ctx, ids[k]); return err }},
		{"card-in-app", func(k int) error { _, err := s.UserCardInApp(ctx, 1, ids[k]); return err }},
		{"token", func(k int) error { _, err := s.Token(ctx, tokens[k]); return err }},
	} {
		b.Run(c.name, func(b *testing.B) {
			start := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), 0))
				for pb.Next() {
					if err := c.read(r.IntN(n)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}
