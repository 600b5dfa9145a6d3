package postgres_test

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// BenchmarkUpdate inserts users from many goroutines, as a server's
// requests do.
func BenchmarkUpdate(b *testing.B) {
	s := openStore(b)
	addApps(b, s, 1)
	var seq atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			u := newUser(1, fmt.Sprint("user", seq.Add(1)), base)
			if err := s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, u) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRegister writes what RegisterUser does: a user with links, an
// audit event (which takes the audit lock) and a token.
func BenchmarkRegister(b *testing.B) {
	s := openStore(b)
	addApps(b, s, 1)
	var seq, runs atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	defer func() { b.ReportMetric(float64(runs.Load())/float64(b.N), "runs/op") }()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			u := newUser(1, fmt.Sprint("user", i), base)
			u.ThirdParty = map[usercenter.Provider]string{usercenter.ProviderQQ: fmt.Sprint("qq", i)}
			err := s.Update(ctx, func(tx core.Tx) error {
				runs.Add(1)
				if err := tx.InsertUser(ctx, u); err != nil {
					return err
				}
				e := &usercenter.AuditEvent{At: base, SdkAppID: 1, UserID: u.ID, Action: usercenter.AuditCreate, Actor: "bench"}
				if err := tx.InsertAudit(ctx, e); err != nil {
					return err
				}
				return tx.InsertToken(ctx, &core.Token{Hash: hashOf(u.ID), UserID: u.ID, SdkAppID: 1, CreatedAt: base, ExpiresAt: base.Add(time.Hour)})
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkUserRead(b *testing.B) {
	s := openStore(b)
	addApps(b, s, 1)
	ids := make([]string, 1000)
	update(b, s, func(tx core.Tx) error {
		for i := range ids {
			u := fullUser(1, fmt.Sprint("user", i), base)
			ids[i] = u.ID
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.User(ctx, ids[rand.IntN(len(ids))]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkListUsers(b *testing.B) {
	s := openStore(b)
	addApps(b, s, 1)
	update(b, s, func(tx core.Tx) error {
		for i := range 1000 {
			if err := tx.InsertUser(ctx, fullUser(1, fmt.Sprint("user", i), base.Add(time.Duration(i)))); err != nil {
				return err
			}
		}
		return nil
	})
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := s.ListUsers(ctx, 1, rand.IntN(900), 50); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
