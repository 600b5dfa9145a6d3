package sqlite

import (
	"strings"
	"testing"
)

// TestQueryPlans checks that the lookups added for profiles, links and
// audit events use their indexes rather than scanning a table.
func TestQueryPlans(t *testing.T) {
	checkQueryPlans(t, openStore(t), []planCase{
		// One B-tree, never the table: see migration 13.
		{reads.UserCardInApp, []any{1, "a"}, "USING COVERING INDEX users_app_card"},
		{reads.UsersByPhone, []any{1, []byte("x")}, "users_app_phone"},
		{reads.UsersByEmail, []any{1, []byte("x")}, "users_app_email"},
		{reads.UsersAfter, []any{1, "", 10}, "users_app_card"},
		{reads.UsersModifiedAfter, []any{1, 5, 5, "", 9, 10}, "users_app_updated"},
		{qUsersLinks, []any{`["a","b"]`}, "sqlite_autoindex_user_links_2"},
		{qUserLinks, []any{"a"}, "sqlite_autoindex_user_links_2"},
		{`SELECT id FROM audit_events WHERE user_id = ? ORDER BY id LIMIT 10`, []any{"a"}, "audit_events_user"},
		{`SELECT id FROM audit_events WHERE sdk_app_id = ? ORDER BY id LIMIT 10`, []any{1}, "audit_events_app"},
	})
}

// planCase is a query, its arguments, and the index its plan must use.
type planCase struct {
	query string
	args  []any
	index string
}

// checkQueryPlans fails t for every query whose plan does not use its
// index.
func checkQueryPlans(t *testing.T, s *Store, cases []planCase) {
	t.Helper()
	for _, c := range cases {
		if p := queryPlan(t, s, c.query, c.args...); !strings.Contains(p, c.index) {
			t.Errorf("%s\nplan %q does not use %s", c.query, p, c.index)
		}
	}
}

// queryPlan returns the steps of query's plan, joined by "; ".
func queryPlan(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	rows, err := s.rdb.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}
