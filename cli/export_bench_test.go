package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// BenchmarkUserExport exports an app of USERCENTER_BENCH_EXPORT_USERS
// users (100,000 by default), each with a phone and an email, through the
// command line, as JSON Lines to nowhere: one op is one whole export.
// Seeding is not timed. See docs/performance.md:
//
//	USERCENTER_BENCH_EXPORT_USERS=1000000 go test ./cli -run '^$' -bench UserExport -benchtime 1x
func BenchmarkUserExport(b *testing.B) {
	n := 100_000
	if v := os.Getenv("USERCENTER_BENCH_EXPORT_USERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("USERCENTER_BENCH_EXPORT_USERS=%q", v)
		}
	}
	dir := b.TempDir()
	getenv := func(k string) string { return map[string]string{"USERCENTER_DATA": dir}[k] }
	ctx := context.Background()
	sf := storeFlags{data: dir}
	inst, err := sf.open(ctx, create)
	if err != nil {
		b.Fatal(err)
	}
	app, _, err := inst.svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	batch := make([]core.UserPatch, 0, core.MaxBatchUsers)
	for i := 0; i < n; {
		batch = batch[:0]
		for ; i < n && len(batch) < core.MaxBatchUsers; i++ {
			phone, email, nick := fmt.Sprintf("+86139%08d", i), fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("user %d", i)
			batch = append(batch, core.UserPatch{Phone: &phone, Email: &email, Nickname: &nick})
		}
		if _, err := inst.svc.CreateUsers(ctx, usercenter.Operator(), app.SdkAppID, batch); err != nil {
			b.Fatal(err)
		}
	}
	inst.Close()
	b.Logf("seeded %d users in %s", n, time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	for range b.N {
		var stderr strings.Builder
		if code := Main([]string{"user", "export", "--app", strconv.FormatUint(app.SdkAppID, 10)}, nil, io.Discard, &stderr, getenv); code != 0 {
			b.Fatalf("export: exit %d: %s", code, stderr.String())
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "users/s")
}
