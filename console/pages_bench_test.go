package console

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest/svctest"
)

// BenchmarkPagesAtScale measures, at the server (the handler, no
// network), the pages the issue bounds at 200 ms with a million users:
// the dashboard, the first page of users and each exact search. Seeding
// takes minutes, so it runs only when asked:
//
//	USERCENTER_BENCH_USERS=1000000 go test ./console -run '^$' -bench PagesAtScale -benchtime 50x -timeout 60m
//
// The users are the bench's (cli/bench.go, bench/seed.go): OriginId
// s<run>-<i>, nickname "bench user <i>", phone +86139<i in 8 digits>,
// email u<i>.<run>@bench.example, created as its import path creates
// them (core.CreateUsers, core.MaxBatchUsers a call), plus a WeChat union
// ID each for the third-party search; their creation times spread over
// the last 60 days so that the chart has every day to draw.
func BenchmarkPagesAtScale(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("USERCENTER_BENCH_USERS"))
	if n <= 0 {
		b.Skip("set USERCENTER_BENCH_USERS (1000000 for the issue's scale) to seed that many users and measure")
	}
	e := seededEnv(b, n)
	app := strconv.FormatUint(e.app.SdkAppID, 10)
	i := n / 2 // a user from the middle of the table
	target := e.middleUser
	search := func(kind, q string) string {
		return "/console/users?" + url.Values{"app": {app}, "kind": {kind}, "q": {q}, "provider": {"wechatUnion"}}.Encode()
	}
	pages := []struct{ name, path string }{
		{"Dashboard", "/console/"},
		{"UsersFirstPage", "/console/users?app=" + app},
		{"UsersFirstPageDisabled", "/console/users?app=" + app + "&status=0"},
		{"SearchUserId", search("userId", target)},
		{"SearchOriginId", search("originId", fmt.Sprintf("sb-%d", i))},
		{"SearchPhone", search("phone", fmt.Sprintf("+86139%08d", i))},
		{"SearchEmail", search("email", fmt.Sprintf("u%d.b@bench.example", i))},
		{"SearchThirdParty", search("thirdParty", fmt.Sprintf("wx-%d", i))},
	}
	admin := adminActor()
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", p.path, nil)
			r = r.WithContext(withTestActor(r.Context(), admin, testCSRF))
			w := httptest.NewRecorder()
			e.mux.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("%s: %d\n%s", p.path, w.Code, w.Body)
			}
			b.ResetTimer()
			for b.Loop() {
				w := httptest.NewRecorder()
				e.mux.ServeHTTP(w, r)
			}
		})
	}
}

// benchEnv is a console over a store holding the seeded users.
type benchEnv struct {
	*pagesEnv
	middleUser string
}

// seededEnv seeds n users into a fresh store; four callers at a time, as
// the bench's default.
func seededEnv(b *testing.B, n int) *benchEnv {
	b.Helper()
	// The clock walks back over 60 days as the batches go, each batch at
	// its own time, so that users land on every day of the chart.
	var mu sync.Mutex
	start := time.Now().Add(-60 * 24 * time.Hour)
	batches := (n + core.MaxBatchUsers - 1) / core.MaxBatchUsers
	step := 60 * 24 * time.Hour / time.Duration(max(batches, 1))
	next := start
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return next
	}
	svc, store := svctest.New(b, core.WithClock(clock))
	e := &pagesEnv{t: nil, svc: svc, store: store, srv: New(svc, Options{}), mux: http.NewServeMux()}
	e.srv.pageRoutes(e.mux)
	var err error
	if e.app, e.key, err = svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	env := &benchEnv{pagesEnv: e}
	for c := 0; c < batches; c++ {
		from := c * core.MaxBatchUsers
		to := min(from+core.MaxBatchUsers, n)
		batch := make([]core.UserPatch, 0, to-from)
		for i := from; i < to; i++ {
			origin, nick := fmt.Sprintf("sb-%d", i), fmt.Sprintf("bench user %d", i)
			phone, email, wx := fmt.Sprintf("+86139%08d", i), fmt.Sprintf("u%d.b@bench.example", i), fmt.Sprintf("wx-%d", i)
			batch = append(batch, core.UserPatch{OriginID: &origin, Nickname: &nick, Phone: &phone, Email: &email,
				ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderWeChatUnion: &wx}})
		}
		mu.Lock()
		next = start.Add(time.Duration(c) * step)
		mu.Unlock()
		users, err := svc.CreateUsers(bg, usercenter.Operator(), e.app.SdkAppID, batch)
		if err != nil {
			b.Fatalf("seeding users %d to %d: %v", from, to, err)
		}
		if from <= n/2 && n/2 < to {
			env.middleUser = users[n/2-from].ID
		}
		if c%100 == 99 {
			b.Logf("seeded %d users in %v", to, time.Since(began).Round(time.Second))
		}
	}
	mu.Lock()
	next = time.Now()
	mu.Unlock()
	// Some disabled users, for the status filter.
	disabled := usercenter.UserDisabled
	for i := range 10 {
		pg, err := svc.ListUsers(bg, usercenter.Operator(), core.UserQuery{SdkAppID: e.app.SdkAppID, OriginID: fmt.Sprintf("sb-%d", i*(n/10)), Limit: 1})
		if err != nil || len(pg.Users) != 1 {
			b.Fatalf("finding a seeded user: %v", err)
		}
		if _, err := svc.UpdateUser(bg, usercenter.Operator(), pg.Users[0].ID, core.UserPatch{Status: &disabled}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d users in %v", n, time.Since(began).Round(time.Second))
	return env
}
