package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"usercenter"
	"usercenter/core"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
)

// The server's reports of a full disk or a failing system are unavailable,
// marked core.ErrStorage; too many connections stays "unreachable".
func TestStorageErrors(t *testing.T) {
	for _, c := range []struct {
		code, message string
		storage       bool
	}{
		{"53100", "the database's disk is full", true},         // disk_full
		{"53200", "the database cannot use its storage", true}, // out_of_memory
		{"58030", "the database cannot use its storage", true}, // io_error
		{"58000", "the database cannot use its storage", true}, // system_error
		{"53300", "the database is unreachable", false},        // too_many_connections
	} {
		err := postgres.MapErr(context.Background(), false, &pgconn.PgError{Code: c.code, Message: "from the server"})
		e := usercenter.ErrorOf(err)
		if e.Code != usercenter.EUnavailable || e.Message != c.message || errors.Is(err, core.ErrStorage) != c.storage {
			t.Errorf("SQLSTATE %s maps to %v (storage %v); want unavailable, %q, storage %v", c.code, err, errors.Is(err, core.ErrStorage), c.message, c.storage)
		}
	}
}

// A wrong password says so, not that the database is unreachable, and the
// message holds no password.
func TestOpenWrongPassword(t *testing.T) {
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		t.Skipf("the test database's DSN is no URL with a user: %v", err)
	}
	u.User = url.UserPassword(u.User.Username(), "not-the-password")
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(cctx, u.String(), postgres.Options{})
	if err == nil {
		s.Close()
		t.Skip("the test database lets the user in without its password (trust authentication)")
	}
	if !postgres.AuthFailed(err) || !strings.Contains(err.Error(), "authentication failed for the database user") || strings.Contains(err.Error(), "unreachable") {
		t.Errorf("Open with a wrong password: %v; want \"authentication failed for the database user\"", err)
	}
	if strings.Contains(err.Error(), "not-the-password") {
		t.Errorf("the error shows the password: %v", err)
	}
}
