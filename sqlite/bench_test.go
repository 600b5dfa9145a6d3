package sqlite

import (
	crand "crypto/rand"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/ksuid"

	"usercenter"
	"usercenter/core"
)

// BenchmarkRegister writes what RegisterUser does, from as many goroutines
// as the bench's connections: a user, its audit event, its outbox event
// and a token. keys=ordered uses the UserIds and token keys the Service
// makes, which sort by creation time; keys=random uses KSUIDs with a
// random payload and bare SHA-256 token keys, as before, to show what the
// ordering buys.
//
// UC_BENCH_EXEC, if set, holds statements (separated by ";") that run on
// the fresh store first, to measure what a part of the schema costs a
// registration: DROP TRIGGER users_stats_insert, DROP INDEX
// users_app_updated.
//
// Besides ns/op it reports the CPU time and the bytes written (WAL frames
// and checkpoints) per registration, which a shared machine's load moves
// far less than wall time.
func BenchmarkRegister(b *testing.B) {
	for _, ordered := range []bool{false, true} {
		name := map[bool]string{false: "keys=random", true: "keys=ordered"}[ordered]
		b.Run(name, func(b *testing.B) {
			s := openStore(b)
			addApps(b, s, 1)
			for _, q := range strings.Split(os.Getenv("UC_BENCH_EXEC"), ";") {
				if q != "" {
					if err := s.wexec(q); err != nil {
						b.Fatal(err)
					}
				}
			}
			var seq atomic.Int64
			b.SetParallelism(16) // 32 writers on 2 CPUs, as the bench's 32 connections
			b.ResetTimer()
			defer perOp(b)()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					now := time.Now()
					u := newUser(1, fmt.Sprint("user", i), now)
					token := usercenter.NewLoginToken(now)
					key := usercenter.TokenKey(token)
					if !ordered {
						u.ID = ksuid.New().String()
						key = usercenter.HashToken(token)
					}
					err := s.Update(ctx, func(tx core.Tx) error {
						if err := tx.InsertUser(ctx, u); err != nil {
							return err
						}
						e := &usercenter.AuditEvent{At: now, SdkAppID: 1, UserID: u.ID, Action: usercenter.AuditCreate, Actor: "bench"}
						if err := tx.InsertAudit(ctx, e); err != nil {
							return err
						}
						ev := &usercenter.Event{Type: usercenter.EventUserCreated, SdkAppID: 1, At: now, Actor: "bench", Data: usercenter.EventData{UserID: u.ID}}
						if err := tx.InsertEvents(ctx, []*usercenter.Event{ev}); err != nil {
							return err
						}
						return tx.InsertToken(ctx, &core.Token{Hash: key, UserID: u.ID, SdkAppID: 1, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// perOp reports, when the returned func runs, the process's CPU time (user
// and system) and the bytes it wrote through system calls, per operation.
func perOp(b *testing.B) func() {
	cpu, w := cpuTime(), written()
	return func() {
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
		b.ReportMetric(float64(written()-w)/1024/float64(b.N), "KiB-written/op")
	}
}

// written is how many bytes the process has written through system calls
// (Linux only; 0 elsewhere).
func written() int64 {
	b, _ := os.ReadFile("/proc/self/io")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkInsertUsers imports users 1,000 an Update, as the REST import
// does, into an app that already has prefill users with phones and emails
// (random blind indexes), and reports the CPU time per user.
func BenchmarkInsertUsers(b *testing.B) {
	const batch = 1000
	prefill := 200_000
	if v := os.Getenv("UC_BENCH_PREFILL"); v != "" {
		prefill, _ = strconv.Atoi(v)
	}
	s := openStore(b)
	addApps(b, s, 1)
	seq := 0
	next := func() []*core.UserRecord {
		users := make([]*core.UserRecord, batch)
		now := time.Now()
		for i := range users {
			at := now.Add(time.Duration(i))
			u := newUser(1, fmt.Sprint("bulk", seq), at)
			u.ID = usercenter.NewUserID(at)
			u.SealedPhone = make([]byte, 45)
			u.SealedEmail = make([]byte, 60)
			u.PhoneIndex = make([]byte, 32)
			u.EmailIndex = make([]byte, 32)
			crand.Read(u.PhoneIndex)
			crand.Read(u.EmailIndex)
			users[i] = u
			seq++
		}
		return users
	}
	audits := func(users []*core.UserRecord) []*usercenter.AuditEvent {
		out := make([]*usercenter.AuditEvent, len(users))
		for i, u := range users {
			out[i] = &usercenter.AuditEvent{At: u.CreatedAt, SdkAppID: 1, UserID: u.ID, Action: usercenter.AuditCreate, Actor: "bench"}
		}
		return out
	}
	for range prefill / batch {
		users := next()
		update(b, s, func(tx core.Tx) error { return tx.InsertUsers(ctx, users) })
	}
	b.ResetTimer()
	defer perOp(b)()
	for i := 0; i < b.N; i += batch {
		users := next()
		update(b, s, func(tx core.Tx) error {
			if err := tx.InsertUsers(ctx, users); err != nil {
				return err
			}
			return tx.InsertAudits(ctx, audits(users))
		})
	}
}
