package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
)

// The console's tables (migrations: SQLite 7, PostgreSQL 5). Their SQL is
// the same on both engines but for the placeholders: it is written with
// "?" and rebound for the engine (Placeholder.Rebind).

// Rebind replaces each "?" of query, in order, by the engine's parameter.
func (p Placeholder) Rebind(query string) string {
	if p == Question {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString(p.Nth(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

const consoleAccountColumns = `id, email, role, apps, status, password_hash, totp_secret, totp_step, recovery_codes,
	failed_sign_ins, locked_until, created_at, last_sign_in_at`

const (
	consoleLinkColumns    = `link_hash, account_id, created_at, expires_at, used_at`
	consoleSessionColumns = `session_hash, account_id, created_at, last_seen_at, expires_at`
)

func consoleAccountArgs(engine string, a *core.ConsoleAccountRecord) ([]any, error) {
	var apps any
	if a.Apps != nil {
		if len(a.Apps) == 0 {
			return nil, misuse("a console account limited to no app")
		}
		ids := make([]string, len(a.Apps))
		for i, id := range a.Apps {
			ids[i] = strconv.FormatUint(id, 10)
		}
		apps = strings.Join(ids, ",")
	}
	var codes []byte
	for _, c := range a.RecoveryCodes {
		if len(c) != 32 {
			return nil, misuse("a recovery code hash of %d bytes", len(c))
		}
		codes = append(codes, c...)
	}
	ts := rowTimes{engine: engine}
	return ts.row(a.ID, a.Email, string(a.Role), apps, string(a.Status), a.PasswordHash, NullBytes(a.SealedTOTP), a.TOTPStep, NullBytes(codes),
		int64(a.FailedSignIns), ts.null("console_accounts.locked_until", a.LockedUntil),
		ts.at("console_accounts.created_at", a.CreatedAt), ts.null("console_accounts.last_sign_in_at", a.LastSignInAt))
}

func scanConsoleAccount(row Scanner) (core.ConsoleAccountRecord, error) {
	var (
		a                         core.ConsoleAccountRecord
		role, status              string
		apps                      *string
		codes                     []byte
		failed, created           int64
		lockedUntil, lastSignInAt *int64
	)
	if err := row.Scan(&a.ID, &a.Email, &role, &apps, &status, &a.PasswordHash, &a.SealedTOTP, &a.TOTPStep, &codes,
		&failed, &lockedUntil, &created, &lastSignInAt); err != nil {
		return a, err
	}
	a.Role, a.Status = usercenter.ConsoleRole(role), usercenter.ConsoleStatus(status)
	if apps != nil {
		for f := range strings.SplitSeq(*apps, ",") {
			id, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return a, fmt.Errorf("console_accounts.apps lists %q: %w", f, err)
			}
			a.Apps = append(a.Apps, id)
		}
	}
	for len(codes) >= 32 {
		a.RecoveryCodes = append(a.RecoveryCodes, codes[:32:32])
		codes = codes[32:]
	}
	if len(a.SealedTOTP) == 0 {
		a.SealedTOTP = nil
	}
	a.TwoFactor = a.SealedTOTP != nil
	a.FailedSignIns = int(failed)
	a.LockedUntil = DecodeNullTime(lockedUntil)
	a.CreatedAt = DecodeTime(created)
	a.LastSignInAt = DecodeNullTime(lastSignInAt)
	return a, nil
}

func scanConsoleLink(row Scanner) (core.ConsoleLink, error) {
	var (
		l                core.ConsoleLink
		account          *string
		created, expires int64
		used             *int64
	)
	if err := row.Scan(&l.Hash, &account, &created, &expires, &used); err != nil {
		return l, err
	}
	if account != nil {
		l.AccountID = *account
	}
	l.CreatedAt, l.ExpiresAt, l.UsedAt = DecodeTime(created), DecodeTime(expires), DecodeNullTime(used)
	return l, nil
}

func scanConsoleSession(row Scanner) (core.ConsoleSession, error) {
	var (
		s                      core.ConsoleSession
		created, seen, expires int64
	)
	if err := row.Scan(&s.Hash, &s.AccountID, &created, &seen, &expires); err != nil {
		return s, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = DecodeTime(created), DecodeTime(seen), DecodeTime(expires)
	return s, nil
}

var (
	consoleAccountNotFound = func() error {
		return &usercenter.Error{Code: usercenter.ENotFound, Resource: usercenter.ResourceConsoleAccount, Message: "console account not found"}
	}
	consoleTokenNotFound = ErrTokenNotFound
)

func (r Reader) q(query string) string { return r.reads.Placeholder.Rebind(query) }

// ConsoleAccount implements core.Reader.
func (r Reader) ConsoleAccount(ctx context.Context, id string) (*core.ConsoleAccountRecord, error) {
	return one(ctx, r.engine, scanConsoleAccount, consoleAccountNotFound,
		r.q(`SELECT `+consoleAccountColumns+` FROM console_accounts WHERE id = ?`), id)
}

// ConsoleAccountByEmail implements core.Reader.
func (r Reader) ConsoleAccountByEmail(ctx context.Context, email string) (*core.ConsoleAccountRecord, error) {
	return one(ctx, r.engine, scanConsoleAccount, consoleAccountNotFound,
		r.q(`SELECT `+consoleAccountColumns+` FROM console_accounts WHERE email = ?`), email)
}

// ConsoleAccounts implements core.Reader.
func (r Reader) ConsoleAccounts(ctx context.Context) ([]core.ConsoleAccountRecord, error) {
	return r.consoleList(ctx, `SELECT `+consoleAccountColumns+` FROM console_accounts ORDER BY created_at, id`)
}

func (r Reader) consoleList(ctx context.Context, query string, args ...any) ([]core.ConsoleAccountRecord, error) {
	ctx, err := r.engine.Begin(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := r.engine.Query(ctx, r.q(query), args)
	if err != nil {
		return nil, r.engine.Fail(ctx, err)
	}
	defer rows.Close()
	var out []core.ConsoleAccountRecord
	for rows.Next() {
		a, err := scanConsoleAccount(rows)
		if err != nil {
			return nil, r.engine.Fail(ctx, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, r.engine.Fail(ctx, err)
	}
	return out, nil
}

// ConsoleLink implements core.Reader.
func (r Reader) ConsoleLink(ctx context.Context, hash []byte) (*core.ConsoleLink, error) {
	return one(ctx, r.engine, scanConsoleLink, consoleTokenNotFound,
		r.q(`SELECT `+consoleLinkColumns+` FROM console_links WHERE link_hash = ?`), hash)
}

// ConsoleSession implements core.Reader.
func (r Reader) ConsoleSession(ctx context.Context, hash []byte) (*core.ConsoleSession, error) {
	return one(ctx, r.engine, scanConsoleSession, consoleTokenNotFound,
		r.q(`SELECT `+consoleSessionColumns+` FROM console_sessions WHERE session_hash = ?`), hash)
}

type attempts struct {
	n, since int64
}

// ConsoleAttempts implements core.Reader.
func (r Reader) ConsoleAttempts(ctx context.Context, key string) (int, time.Time, error) {
	a, err := one(ctx, r.engine, func(row Scanner) (attempts, error) {
		var a attempts
		return a, row.Scan(&a.n, &a.since)
	}, notFound("attempts"), r.q(`SELECT attempts, since FROM console_attempts WHERE attempt_key = ?`), key)
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	return int(a.n), DecodeTime(a.since), nil
}

// ConsoleWriter is what an engine's Tx gives the console's writes: its
// statements and their errors.
type ConsoleWriter interface {
	// Begin checks that the Tx may still be used and returns the context
	// to run its statements with.
	Begin(ctx context.Context) (context.Context, error)
	// Exec runs a write and returns how many rows it changed; a
	// constraint violation comes back as the domain's conflict (or
	// NotFound, for a missing parent row).
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Row runs a write that returns one row (UPDATE … RETURNING).
	Row(ctx context.Context, query string, args ...any) Scanner
	NoRows(err error) bool
	Fail(ctx context.Context, err error) error
}

// ConsoleTx implements the console's writes of core.Tx over an engine's
// ConsoleWriter.
type ConsoleTx struct {
	P      Placeholder
	Engine string
	W      ConsoleWriter
}

func (t ConsoleTx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	ctx, err := t.W.Begin(ctx)
	if err != nil {
		return 0, err
	}
	return t.W.Exec(ctx, t.P.Rebind(query), args...)
}

// InsertConsoleAccount implements core.Tx.
func (t ConsoleTx) InsertConsoleAccount(ctx context.Context, a *core.ConsoleAccountRecord) error {
	args, err := consoleAccountArgs(t.Engine, a)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO console_accounts (`+consoleAccountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	return err
}

// UpdateConsoleAccount implements core.Tx.
func (t ConsoleTx) UpdateConsoleAccount(ctx context.Context, a *core.ConsoleAccountRecord) error {
	args, err := consoleAccountArgs(t.Engine, a)
	if err != nil {
		return err
	}
	// Every column but id and created_at, then the id.
	args = append(append(args[1:11:11], args[12]), a.ID)
	n, err := t.exec(ctx, `UPDATE console_accounts SET email = ?, role = ?, apps = ?, status = ?, password_hash = ?,
		totp_secret = ?, totp_step = ?, recovery_codes = ?, failed_sign_ins = ?, locked_until = ?, last_sign_in_at = ? WHERE id = ?`, args...)
	if err == nil && n == 0 {
		err = consoleAccountNotFound()
	}
	return err
}

// InsertConsoleLink implements core.Tx.
func (t ConsoleTx) InsertConsoleLink(ctx context.Context, l *core.ConsoleLink) error {
	var account any
	if l.AccountID != "" {
		account = l.AccountID
	}
	ts := rowTimes{engine: t.Engine}
	args, err := ts.row(l.Hash, account, ts.at("console_links.created_at", l.CreatedAt), ts.at("console_links.expires_at", l.ExpiresAt),
		ts.null("console_links.used_at", l.UsedAt))
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO console_links (`+consoleLinkColumns+`) VALUES (?, ?, ?, ?, ?)`, args...)
	return err
}

// TakeConsoleLink implements core.Tx.
func (t ConsoleTx) TakeConsoleLink(ctx context.Context, hash []byte, at time.Time) (*core.ConsoleLink, error) {
	ctx, err := t.W.Begin(ctx)
	if err != nil {
		return nil, err
	}
	usedAt, err := EncodeTime(t.Engine, "console_links.used_at", at)
	if err != nil {
		return nil, err
	}
	l, err := scanConsoleLink(t.W.Row(ctx, t.P.Rebind(`UPDATE console_links SET used_at = ?
		WHERE link_hash = ? AND used_at IS NULL RETURNING `+consoleLinkColumns), usedAt, hash))
	if t.W.NoRows(err) {
		return nil, consoleTokenNotFound()
	}
	if err != nil {
		return nil, t.W.Fail(ctx, err)
	}
	return &l, nil
}

// InsertConsoleSession implements core.Tx.
func (t ConsoleTx) InsertConsoleSession(ctx context.Context, s *core.ConsoleSession) error {
	ts := rowTimes{engine: t.Engine}
	args, err := ts.row(s.Hash, s.AccountID, ts.at("console_sessions.created_at", s.CreatedAt),
		ts.at("console_sessions.last_seen_at", s.LastSeenAt), ts.at("console_sessions.expires_at", s.ExpiresAt))
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO console_sessions (`+consoleSessionColumns+`) VALUES (?, ?, ?, ?, ?)`, args...)
	return err
}

// TouchConsoleSession implements core.Tx.
func (t ConsoleTx) TouchConsoleSession(ctx context.Context, hash []byte, at time.Time) error {
	seen, err := EncodeTime(t.Engine, "console_sessions.last_seen_at", at)
	if err != nil {
		return err
	}
	n, err := t.exec(ctx, `UPDATE console_sessions SET last_seen_at = ? WHERE session_hash = ?`, seen, hash)
	if err == nil && n == 0 {
		err = consoleTokenNotFound()
	}
	return err
}

// DeleteConsoleSession implements core.Tx.
func (t ConsoleTx) DeleteConsoleSession(ctx context.Context, hash []byte) error {
	_, err := t.exec(ctx, `DELETE FROM console_sessions WHERE session_hash = ?`, hash)
	return err
}

// DeleteConsoleSessions implements core.Tx.
func (t ConsoleTx) DeleteConsoleSessions(ctx context.Context, accountID string) (int, error) {
	n, err := t.exec(ctx, `DELETE FROM console_sessions WHERE account_id = ?`, accountID)
	return int(n), err
}

// SetConsoleAttempts implements core.Tx.
func (t ConsoleTx) SetConsoleAttempts(ctx context.Context, key string, n int, since time.Time) error {
	if n < 0 {
		return misuse("the number of sign-in attempts must not be negative")
	}
	if n == 0 {
		_, err := t.exec(ctx, `DELETE FROM console_attempts WHERE attempt_key = ?`, key)
		return err
	}
	sinceNS, err := EncodeTime(t.Engine, "console_attempts.since", since)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO console_attempts (attempt_key, attempts, since) VALUES (?, ?, ?)
		ON CONFLICT (attempt_key) DO UPDATE SET attempts = excluded.attempts, since = excluded.since`, key, int64(n), sinceNS)
	return err
}

// DeleteExpiredConsole implements core.Tx.
func (t ConsoleTx) DeleteExpiredConsole(ctx context.Context, now time.Time) (int, error) {
	bound := BoundTime(now)
	total := 0
	for _, q := range []string{
		`DELETE FROM console_sessions WHERE expires_at < ?`,
		`DELETE FROM console_links WHERE expires_at < ?`,
	} {
		n, err := t.exec(ctx, q, bound)
		if err != nil {
			return total, err
		}
		total += int(n)
	}
	n, err := t.exec(ctx, `DELETE FROM console_attempts WHERE since < ?`, BoundTime(now.Add(-24*time.Hour)))
	return total + int(n), err
}
