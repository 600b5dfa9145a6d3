package sqlite

import (
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// TestMigrateFromV1 builds a database as the program of migration 1 left
// it, with data, and checks that Open brings it up to date and that the
// old rows read back with the new columns' defaults.
func TestMigrateFromV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	v1, err := migrationFiles.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, []string{"foreign_keys(1)"}))
	if err != nil {
		t.Fatal(err)
	}
	created := base.UnixNano()
	userID := usercenter.NewUserID(base)
	for _, st := range []struct {
		q    string
		args []any
	}{
		{string(v1), nil},
		// As migrate creates it.
		{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`, nil},
		{`INSERT INTO schema_migrations VALUES (1, '2025-01-01T00:00:00Z')`, nil},
		{`INSERT INTO apps VALUES (1, 'Old', 'old.example', 1, 20, 604800, x'0102', ?)`, []any{created}},
		{`INSERT INTO users VALUES (?, 1, 'origin', 'Nick', 'https://example.com/a.png', 1, ?, ?, NULL)`, []any{userID, created, created}},
	} {
		if _, err := db.ExecContext(ctx, st.q, st.args...); err != nil {
			t.Fatalf("%.40s: %v", st.q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Applied(); !reflect.DeepEqual(got, []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}) {
		t.Fatalf("Open applied %v, want [2 3 4 5 6 7 8 9 10 11 12 13]", got)
	}
	// Migration 8 counted the users already there.
	stats, err := s.UserStats(ctx, 1, base)
	if err != nil {
		t.Fatal(err)
	}
	midnight := base.UTC().Truncate(24 * time.Hour)
	if want := (&core.UserStats{Active: 1, Days: []core.DayCount{{Day: midnight, Created: 1}}}); !reflect.DeepEqual(stats, want) {
		t.Fatalf("UserStats after migration 8 = %+v, want %+v", stats, want)
	}

	app, err := s.App(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if app.PhoneRegion != "CN" || app.Name != "Old" || app.TokenTTL != 7*24*time.Hour {
		t.Fatalf("old app = %+v", app)
	}
	want := &core.UserRecord{User: usercenter.User{
		ID: userID, SdkAppID: 1, OriginID: "origin", Status: usercenter.UserActive,
		CreatedAt: base, UpdatedAt: base,
		Profile: usercenter.Profile{Nickname: "Nick", Avatar: "https://example.com/a.png"},
	}}
	got, err := s.User(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	wantUser(t, got, want)
	if list, _, err := s.ListUsers(ctx, 1, 0, 10); err != nil || len(list) != 1 {
		t.Fatalf("ListUsers = %+v, %v", list, err)
	}

	// The old user takes a profile and links like any other.
	full := fullUser(1, "origin", base)
	full.ID = userID
	update(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, full) })
	got, _ = s.User(ctx, userID)
	wantUser(t, got, full)
	addUser(t, s, fullUser(1, "new", base))
}
