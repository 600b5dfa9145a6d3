package postgres_test

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"usercenter"
	"usercenter/postgres"
	"usercenter/sqlstore"
)

// TestQueryPlans checks that lookups, pages, link loads, purges and
// cascades can use their indexes rather than scan a table. Sequential
// scans are priced out, since on the few rows of a test the planner would
// rightly prefer them.
func TestQueryPlans(t *testing.T) {
	s := openStore(t)
	for _, c := range []struct {
		query string
		args  []any
		uses  []string
	}{
		{postgres.QUsersByPhone, []any{1, []byte("x")}, []string{"users_app_phone", "user_links_user_id_provider_key"}},
		{postgres.QUsersByEmail, []any{1, []byte("x")}, []string{"users_app_email"}},
		{postgres.QUsersAfter, []any{1, "", 10}, []string{"users_app_user"}},
		{postgres.QUsersModifiedAfter, []any{1, 5, 5, "", 9, 10}, []string{"users_app_updated"}},
		{postgres.QListUsers, []any{1, 10, 0}, []string{"users_app_created"}},
		{postgres.QUser, []any{"a"}, []string{"users_pkey", "user_links_user_id_provider_key"}},
		{postgres.QUserCardInApp, []any{1, "a"}, []string{"users_pkey"}},
		{postgres.QUserByLink, []any{1, "qq", "x"}, []string{"user_links_pkey"}},
		{postgres.QAppByDomain, []any{"a"}, []string{"apps_user_domain_key"}},
		{postgres.QKey, []any{"a"}, []string{"api_keys_pkey", "api_key_apps_pkey"}},
		{`SELECT id FROM audit_events WHERE user_id = $1 ORDER BY id LIMIT 10`, []any{"a"}, []string{"audit_events_user"}},
		{`SELECT id FROM audit_events WHERE sdk_app_id = $1 ORDER BY id LIMIT 10`, []any{1}, []string{"audit_events_app"}},
		{`SELECT 1 FROM codes WHERE expires_at < $1`, []any{1}, []string{"codes_expires"}},
		{`SELECT 1 FROM codes WHERE user_id = $1`, []any{"a"}, []string{"codes_user"}},
		{`SELECT 1 FROM code_attempts WHERE user_id = $1`, []any{"a"}, []string{"code_attempts_user"}},
		{`SELECT 1 FROM tokens WHERE expires_at < $1`, []any{1}, []string{"tokens_expires"}},
		{`SELECT 1 FROM tokens WHERE user_id = $1`, []any{"a"}, []string{"tokens_user"}},
		{`SELECT 1 FROM enterprise_tokens WHERE expires_at < $1`, []any{1}, []string{"enterprise_tokens_expires"}},
		{`SELECT 1 FROM enterprise_tokens WHERE secret_id = $1`, []any{"a"}, []string{"enterprise_tokens_key"}},
		{`SELECT 1 FROM api_key_apps WHERE sdk_app_id = $1`, []any{1}, []string{"api_key_apps_app"}},
		{postgres.QTrimEnterpriseTokens, []any{"a", 1}, []string{"enterprise_tokens_key"}},
	} {
		plan := explain(t, s, c.query, c.args...)
		for _, ix := range c.uses {
			if !strings.Contains(plan, ix) {
				t.Errorf("%s\nplan does not use %s:\n%s", c.query, ix, plan)
			}
		}
	}
}

// TestEventPlans: the outbox is read from a cursor through its indexes,
// one app's through events_app and every app's through the primary key,
// and the purge reads the primary key from its start: none scans the
// table, however many events it holds.
func TestEventPlans(t *testing.T) {
	s := openStore(t)
	anyType := func(types []string) []string { return types }
	oneApp, oneArgs := sqlstore.EventQuery(usercenter.EventFilter{SdkAppID: 1, AfterID: 5, Types: []usercenter.EventType{usercenter.EventUserCreated}, Limit: 10}, sqlstore.Dollar, `type = ANY(?)`, anyType)
	every, everyArgs := sqlstore.EventQuery(usercenter.EventFilter{EveryApp: true, AfterID: 5, Limit: 10}, sqlstore.Dollar, `type = ANY(?)`, anyType)
	for _, c := range []struct {
		query string
		args  []any
		uses  string
	}{
		{oneApp, oneArgs, "events_app"},
		{every, everyArgs, "events_pkey"},
		{sqlstore.DeleteOldEvents(sqlstore.Dollar), []any{10000, int64(1)}, "events_pkey"},
		{`SELECT COALESCE(max(id), 0) FROM events`, nil, "events_pkey"},
	} {
		if plan := explain(t, s, c.query, c.args...); !strings.Contains(plan, c.uses) {
			t.Errorf("%s\nplan does not use %s:\n%s", c.query, c.uses, plan)
		}
	}
}

// TestTrimEnterpriseTokensPlan: a trim can read a key's tokens newest
// first through enterprise_tokens_key, rather than sorting them. Sorts and
// bitmap scans are priced out too, which on an empty table the planner
// would rightly prefer; a plan that must still sort has no index in order.
func TestTrimEnterpriseTokensPlan(t *testing.T) {
	plan := explainWithout(t, openStore(t), []string{"enable_sort", "enable_bitmapscan"}, postgres.QTrimEnterpriseTokens, "a", 1)
	if !strings.Contains(plan, "Scan Backward using enterprise_tokens_key") || strings.Contains(plan, "Sort") {
		t.Errorf("trim plan does not read enterprise_tokens_key in order:\n%s", plan)
	}
}

func explain(t *testing.T, s *postgres.Store, query string, args ...any) string {
	t.Helper()
	return explainWithout(t, s, nil, query, args...)
}

// explainWithout returns the plan of query with args, with sequential
// scans, and the plan nodes of the settings in off (enable_…), priced out.
func explainWithout(t *testing.T, s *postgres.Store, off []string, query string, args ...any) string {
	t.Helper()
	off = append([]string{"enable_seqscan"}, off...)
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, name := range off {
		if _, err := tx.Exec(ctx, `SET LOCAL `+name+` = off`); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := tx.Query(ctx, "EXPLAIN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", query, err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
