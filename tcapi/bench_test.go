package tcapi_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"usercenter/uctest"
)

// The benchmarks run the whole path: the official Go SDK signs (TC3) and
// sends over loopback HTTP, the server verifies the signature, decodes,
// authorises, rate-limits and reads or writes SQLite. Client and server
// share the machine, so the figures include the SDK's own cost.

func BenchmarkRegisterUser(b *testing.B) {
	env := uctest.New(b, uctest.Options{RateLimit: 100_000})
	var seq atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		sdk := env.SDK(b, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{})
		for pb.Next() {
			req := uctest.NewRegisterUser()
			req.SdkAppId = uctest.P(env.App.SdkAppID)
			req.Name = uctest.P("bench")
			req.OriginId = uctest.P(fmt.Sprintf("bench-%d", seq.Add(1)))
			if _, err := sdk.Send(req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDescribeUser(b *testing.B) {
	env := uctest.New(b, uctest.Options{RateLimit: 100_000})
	sdk := env.SDK(b, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{})
	req := uctest.NewRegisterUser()
	req.SdkAppId = uctest.P(env.App.SdkAppID)
	if _, err := sdk.Send(req); err != nil {
		b.Fatal(err)
	}
	users, _, err := env.Store.ListUsers(b.Context(), env.App.SdkAppID, 0, 1)
	if err != nil || len(users) != 1 {
		b.Fatal(err)
	}
	userID := users[0].ID
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		sdk := env.SDK(b, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{})
		for pb.Next() {
			d := uctest.NewDescribeUser()
			d.UserId = uctest.P(userID)
			if _, err := sdk.Send(d); err != nil {
				b.Fatal(err)
			}
		}
	})
}
