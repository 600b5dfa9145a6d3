package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"usercenter"
	"usercenter/bench"
	"usercenter/uctest/svctest"
)

// TestBenchSelfSmoke runs `usercenter bench --self` briefly over every
// scenario, so that the tool cannot rot: each scenario and baseline must
// run and see no error, the JSON report must hold them all, and the users
// the register operations report must be exactly the users the store
// gained. It checks correctness, not speed.
func TestBenchSelfSmoke(t *testing.T) {
	const users = 200
	jsonPath := filepath.Join(t.TempDir(), "bench.json")
	hooked := setRowCountHook(t, users)

	r := runCLI(t, nil, "bench", "--self", "--users", fmt.Sprint(users), "--connections", "4",
		"--requests", "120", "--duration", "2s", "--json", jsonPath, "--log-level", "error")
	if r.code != 0 {
		t.Fatalf("bench --self: %s", r)
	}
	if !*hooked {
		t.Fatal("the in-process instance was never checked")
	}

	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("the JSON report does not parse: %v\n%s", err, b)
	}
	if rep.Seeding.Users != users || rep.Seeding.Errors != 0 || rep.Seeding.AppUsers != users || rep.Seeding.ContactUsers != users ||
		rep.Seeding.Path != "REST importUsers (each with phone and email)" {
		t.Errorf("seeding: %+v", rep.Seeding)
	}
	if !rep.InProcess || rep.Engine != "sqlite" || rep.PeakRSSBytes == 0 {
		t.Errorf("inProcess %v, engine %q, peak RSS %d", rep.InProcess, rep.Engine, rep.PeakRSSBytes)
	}
	for _, name := range append([]string{bench.BaselineStatic, bench.BaselineLookup}, bench.Scenarios...) {
		res := rep.Lookup(name)
		switch {
		case res == nil:
			t.Errorf("%s: missing from the JSON report", name)
		case res.SetupError != "":
			t.Errorf("%s: setup failed: %s", name, res.SetupError)
		case res.OK == 0 || res.Errors != 0 || len(res.ErrorCodes) != 0:
			t.Errorf("%s: %d ok, %d errors %v", name, res.OK, res.Errors, res.ErrorCodes)
		case res.ReqPerSec <= 0 || res.LatencyMs.P50 <= 0 || res.LatencyMs.P99 < res.LatencyMs.P50 || res.RatioToLookup <= 0:
			t.Errorf("%s: %.0f req/s, latency %+v, ratio %v", name, res.ReqPerSec, res.LatencyMs, res.RatioToLookup)
		case rep.InProcess && res.PeakRSSBytes == 0:
			t.Errorf("%s: no peak RSS", name)
		}
		if !strings.Contains(r.stdout, name) {
			t.Errorf("%s: missing from the table:\n%s", name, r.stdout)
		}
	}
	if lookup := rep.Lookup(bench.BaselineLookup); lookup != nil && lookup.RatioToLookup != 1 {
		t.Errorf("the lookup baseline's ratio to itself is %v", lookup.RatioToLookup)
	}
	if mixed := rep.Lookup(bench.ScenarioMixed); mixed != nil && len(mixed.Breakdown) != 6 {
		t.Errorf("mixed ran %v, want all six kinds of operation", mixed.Breakdown)
	}
}

// TestBenchSelfSeedPaths covers the other seeding paths, briefly.
func TestBenchSelfSeedPaths(t *testing.T) {
	const users = 50
	for _, path := range []string{bench.SeedREST, bench.SeedBatch} {
		t.Run(path, func(t *testing.T) {
			hooked := setRowCountHook(t, users)
			r := runCLI(t, nil, "bench", "--self", "--seed", path, "--users", fmt.Sprint(users), "--connections", "2",
				"--requests", "40", "--scenarios", "register,superapp-phone", "--json", "-", "--log-level", "error")
			if r.code != 0 || !*hooked {
				t.Fatalf("bench --self --seed %s: %s", path, r)
			}
			var rep bench.Report
			decodeOne(t, r.stdout, &rep)
			// Batch-registered users get phone and email afterwards, every
			// one of them.
			if rep.Seeding.Errors != 0 || rep.Seeding.ContactUsers != users || rep.Seeding.AppUsers != users || len(rep.Scenarios) != 2 {
				t.Fatalf("seeding %+v, %d scenarios", rep.Seeding, len(rep.Scenarios))
			}
			for _, s := range rep.Scenarios {
				if s.OK == 0 || s.Errors != 0 {
					t.Errorf("%s: %d ok, %d errors %v %s", s.Name, s.OK, s.Errors, s.ErrorCodes, s.SetupError)
				}
			}
		})
	}
}

// setRowCountHook checks, before the in-process instance goes away, that
// the app holds exactly the seeded users plus one per successful
// registration the report counts, and reports whether it ran.
func setRowCountHook(t *testing.T, seeded int) *bool {
	hooked := new(bool)
	benchSelfHook = func(ctx context.Context, inst *instance, app *usercenter.App, key *usercenter.APIKey, rep *bench.Report) error {
		*hooked = true
		_, total, err := svctest.ListUsers(inst.svc, ctx, key.Actor(), app.SdkAppID, 1, 1)
		if err != nil {
			return err
		}
		var registered uint64
		if reg := rep.Lookup(bench.ScenarioRegister); reg != nil {
			registered += reg.OK
		}
		if mixed := rep.Lookup(bench.ScenarioMixed); mixed != nil {
			registered += mixed.Breakdown["register"].OK
		}
		if uint64(total) != uint64(seeded)+registered {
			return fmt.Errorf("the app has %d users; %d seeded plus %d successful registrations make %d", total, seeded, registered, uint64(seeded)+registered)
		}
		return nil
	}
	t.Cleanup(func() { benchSelfHook = nil })
	return hooked
}

func TestBenchUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench"}, "exactly one of --self and --target"},
		{[]string{"bench", "--self", "--target", "http://127.0.0.1:1"}, "exactly one of --self and --target"},
		{[]string{"bench", "--target", "http://127.0.0.1:1"}, "--creds"},
		{[]string{"bench", "--self", "--data", "/tmp/x"}, "temporary directory"},
		{[]string{"bench", "--target", "http://127.0.0.1:1", "--creds", "c.json", "--db", "sqlite:/tmp/x"}, "--db goes with --self"},
		{[]string{"bench", "--self", "--emit-wrk", "/tmp/wrkdata"}, "--emit-wrk goes with --target"},
		{[]string{"bench", "--self", "extra"}, "no arguments"},
		{[]string{"bench", "--self", "--connections", "0"}, "connections must be"},
		{[]string{"bench", "--self", "--scenarios", "describe,nope"}, `unknown scenario "nope"`},
		{[]string{"bench", "--self", "--seed", "magic"}, "seed must be"},
		{[]string{"bench", "--target", "http://127.0.0.1:1", "--creds", "c.json", "--webhook"}, "--webhook goes with --self"},
		{[]string{"bench", "--self", "--webhook-discard"}, "--webhook-discard goes with --webhook"},
		{[]string{"bench", "--self", "--scim-token", "t.json"}, "--scim-token go with --target"},
		{[]string{"bench", "--serve-baseline", "127.0.0.1:0", "--self"}, "--serve-baseline takes only --users"},
		{[]string{"bench", "--serve-baseline", "0.0.0.0:8080"}, "loopback only"},
		{[]string{"bench", "--serve-baseline", "127.0.0.1"}, "not host:port"},
		{[]string{"bench", "--serve-baseline", "127.0.0.1:0", "--users", "0"}, "--users must be at least 1"},
		{[]string{"bench", "--self", "--baseline-in-process"}, "--baseline-in-process goes with --target"},
		{[]string{"bench", "--self", "--stop-with-stdin"}, "--stop-with-stdin goes with --serve-baseline"},
	} {
		r := runCLI(t, nil, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: %s\nwant exit 2 and %q", c.args, r, c.want)
		}
	}
}

// TestBenchWebhookRounds: bench --webhook runs the scenarios without and
// with an endpoint, and reports both and the delivery lag of the events
// the receiver got.
func TestBenchWebhookRounds(t *testing.T) {
	jsonPath := filepath.Join(t.TempDir(), "bench.json")
	r := runCLI(t, nil, "bench", "--self", "--webhook", "--scenarios", "register", "--users", "100", "--connections", "2",
		"--requests", "100", "--json", jsonPath, "--log-level", "error")
	if r.code != 0 {
		t.Fatalf("bench --self --webhook: %s", r)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(rep.Notes, "\n")
	if !strings.Contains(notes, "--webhook: register") || !regexp.MustCompile(`--webhook: [1-9]\d* user.created events delivered`).MatchString(notes) ||
		!strings.Contains(notes, "0 events of the app still undelivered") {
		t.Fatalf("notes:\n%s", notes)
	}
}
