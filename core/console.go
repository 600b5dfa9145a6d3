package core

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"image/png"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/argon2"

	"usercenter"
)

// The console's accounts, sign-in and sessions. Every number here is
// documented in docs/console.md.
const (
	// ConsoleLinkTTL is how long a one-time sign-in link (the first
	// setup's, an invitation, a password reset) works.
	ConsoleLinkTTL = time.Hour
	// ConsoleSessionIdle ends a session nobody used for that long;
	// ConsoleSessionMax ends any session that long after sign-in.
	ConsoleSessionIdle = time.Hour
	ConsoleSessionMax  = 12 * time.Hour
	// consoleTouchEvery spaces the writes that note a session's use.
	consoleTouchEvery = time.Minute

	// ConsoleLockoutFailures failed sign-ins in a row lock an account for
	// ConsoleLockout (or until an admin lifts the lock).
	ConsoleLockoutFailures = 5
	ConsoleLockout         = 15 * time.Minute
	// ConsoleAddressAttempts sign-in attempts are allowed from one network
	// address per ConsoleAddressWindow, failed or not.
	ConsoleAddressAttempts = 20
	ConsoleAddressWindow   = 15 * time.Minute

	// MinConsolePassword and MaxConsolePassword bound a password's length
	// in bytes.
	MinConsolePassword = 12
	MaxConsolePassword = 1024

	// consoleTicketTTL is how long a sign-in waits for its second factor
	// after the password was right; consoleEnrolTTL how long a TOTP
	// enrolment waits for its first code.
	consoleTicketTTL = 5 * time.Minute
	consoleEnrolTTL  = 15 * time.Minute
	// ConsoleRecoveryCodes is how many recovery codes an enrolment makes.
	ConsoleRecoveryCodes = 10
)

// argon2id parameters: OWASP's recommended minimum for argon2id (19 MiB,
// two passes, one lane), which costs some 30 ms on the standard machine.
// They are stored with each hash, so raising them later only applies to
// new passwords.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hashPassword returns a PHC-style argon2id string of password.
func hashPassword(password string) string {
	salt := randomBytes(argonSaltLen)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// dummyPasswordHash is checked against when no account has the email, so
// that an unknown email takes as long to refuse as a wrong password.
var dummyPasswordHash = hashPassword("not a password of any account")

// checkPassword reports, in constant time over the hash, whether password
// matches a hashPassword string; any malformed hash matches nothing.
func checkPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<21 || t > 16 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("usercenter: no randomness: " + err.Error())
	}
	return b
}

// newConsoleToken returns a random token for a link or a session cookie,
// and the hash it is stored as.
func newConsoleToken() (string, []byte) {
	token := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	return token, hashConsoleToken(token)
}

func hashConsoleToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ConsoleCSRFToken is the anti-CSRF token of the session whose cookie
// holds token: derived from the token, which only the browser holds
// (the store has its hash), so it needs no storage and dies with the
// session.
func ConsoleCSRFToken(token string) string {
	h := sha256.Sum256([]byte("usercenter console csrf\x00" + token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func aadConsoleTOTP(id string) string { return "console_account:" + id + ":totp" }

const (
	aadConsoleTicket = "console:sign_in_ticket"
	aadConsoleEnrol  = "console:totp_enrolment:"
)

// errNoConsoleAccount is the answer of an account that does not exist.
func errNoConsoleAccount() error {
	return &usercenter.Error{Code: usercenter.ENotFound, Resource: usercenter.ResourceConsoleAccount, Message: "console account not found"}
}

// errSignIn is the one answer to a wrong email, password or code: it does
// not say which was wrong.
func errSignIn() error {
	return &usercenter.Error{Code: usercenter.EUnauthenticated, Message: "the email, password or code is wrong"}
}

func errLink() error {
	return &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceToken,
		Message: "this link has been used or has expired; ask an admin for a new one (usercenter admin link)"}
}

func errConsoleSession() error {
	return &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceToken, Message: "you are signed out; sign in again"}
}

func requireConsoleManager(actor *usercenter.Actor) error {
	if actor == nil || !actor.ManagesConsole {
		return usercenter.Forbidden("only an admin of every app manages console accounts")
	}
	return nil
}

// consoleAudit is an audit event of the console: it concerns no app and no
// user; field names the account concerned (and the setting changed).
func (s *Service) consoleAudit(ctx context.Context, actor string, action usercenter.AuditAction, field string) *usercenter.AuditEvent {
	return adminAudit(ctx, &usercenter.Actor{Name: actor}, 0, s.now(), action, field, "")
}

func (s *Service) insertConsoleAudit(ctx context.Context, tx Tx, events ...*usercenter.AuditEvent) error {
	return record(ctx, tx, events, nil)
}

// checkPasswordRule checks a new password against the length rule.
func checkPasswordRule(password string) error {
	if len(password) < MinConsolePassword || len(password) > MaxConsolePassword {
		return usercenter.Invalid(usercenter.FieldPassword, "must be %d to %d bytes long", MinConsolePassword, MaxConsolePassword)
	}
	return nil
}

// checkConsoleApps checks that every app of a limit exists; nil is every
// app, an empty list none, which no account may be limited to.
func checkConsoleApps(ctx context.Context, r Reader, apps []uint64) error {
	if apps == nil {
		return nil
	}
	if len(apps) == 0 {
		return usercenter.Invalid(usercenter.FieldKeyApps, "must name at least one app, or none to mean every app")
	}
	for _, id := range apps {
		if _, err := r.App(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// ConsoleSetupNeeded reports whether no console account exists, so that
// serve offers a setup link.
func (s *Service) ConsoleSetupNeeded(ctx context.Context) (bool, error) {
	accounts, err := s.store.ConsoleAccounts(ctx)
	return len(accounts) == 0, err
}

// ConsoleSetupLink returns the token of a one-time link that creates the
// first admin, or "" when some console account already exists. Several
// may be made (a restart makes another); the first one used wins, and the
// others then fail.
func (s *Service) ConsoleSetupLink(ctx context.Context) (string, error) {
	var token string
	err := s.store.Update(ctx, func(tx Tx) error {
		token = ""
		accounts, err := tx.ConsoleAccounts(ctx)
		if err != nil || len(accounts) > 0 {
			return err
		}
		t, hash := newConsoleToken()
		now := s.now().UTC()
		if err := tx.InsertConsoleLink(ctx, &ConsoleLink{Hash: hash, CreatedAt: now, ExpiresAt: now.Add(ConsoleLinkTTL)}); err != nil {
			return err
		}
		token = t
		return nil
	})
	return token, err
}

// CreateConsoleAccount invites an operator: it creates the account, with
// no password yet, and returns the token of its one-time link. apps nil
// means every app.
func (s *Service) CreateConsoleAccount(ctx context.Context, actor *usercenter.Actor, email string, role usercenter.ConsoleRole, apps []uint64) (*usercenter.ConsoleAccount, string, error) {
	if err := requireConsoleManager(actor); err != nil {
		return nil, "", err
	}
	email, err := usercenter.ConsoleEmail(email)
	if err != nil {
		return nil, "", err
	}
	if _, err := usercenter.ParseConsoleRole(string(role)); err != nil {
		return nil, "", err
	}
	if apps != nil {
		apps = slices.Compact(slices.Sorted(slices.Values(apps)))
	}
	var (
		acc   *ConsoleAccountRecord
		token string
	)
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := checkConsoleApps(ctx, tx, apps); err != nil {
			return err
		}
		now := s.now().UTC()
		acc = &ConsoleAccountRecord{ConsoleAccount: usercenter.ConsoleAccount{
			ID: usercenter.NewUserID(now), Email: email, Role: role, Apps: apps,
			Status: usercenter.ConsoleInvited, CreatedAt: now,
		}}
		if err := tx.InsertConsoleAccount(ctx, acc); err != nil {
			return err
		}
		var hash []byte
		token, hash = newConsoleToken()
		if err := tx.InsertConsoleLink(ctx, &ConsoleLink{Hash: hash, AccountID: acc.ID, CreatedAt: now, ExpiresAt: now.Add(ConsoleLinkTTL)}); err != nil {
			return err
		}
		return s.insertConsoleAudit(ctx, tx, s.consoleAudit(ctx, actor.Name, usercenter.AuditConsoleAccountCreate, acc.ID))
	})
	if err != nil {
		return nil, "", err
	}
	return &acc.ConsoleAccount, token, nil
}

// NewConsoleLink makes a new one-time link for an existing account: to
// set its password again, or after its invitation expired.
func (s *Service) NewConsoleLink(ctx context.Context, actor *usercenter.Actor, accountID string) (string, error) {
	if err := requireConsoleManager(actor); err != nil {
		return "", err
	}
	var token string
	err := s.store.Update(ctx, func(tx Tx) error {
		acc, err := tx.ConsoleAccount(ctx, accountID)
		if err != nil {
			return err
		}
		if acc.Status == usercenter.ConsoleDisabled {
			return &usercenter.Error{Code: usercenter.EDisabled, Resource: usercenter.ResourceConsoleAccount, Message: "the console account is disabled; enable it first"}
		}
		var hash []byte
		token, hash = newConsoleToken()
		now := s.now().UTC()
		return tx.InsertConsoleLink(ctx, &ConsoleLink{Hash: hash, AccountID: acc.ID, CreatedAt: now, ExpiresAt: now.Add(ConsoleLinkTTL)})
	})
	return token, err
}

// ConsoleLinkInfo is what the page of a one-time link shows.
type ConsoleLinkInfo struct {
	Setup bool   // the first setup: the operator chooses the email
	Email string // the invited account's email otherwise
}

// ConsoleLinkInfo checks that a link still works, without using it.
func (s *Service) ConsoleLinkInfo(ctx context.Context, token string) (*ConsoleLinkInfo, error) {
	link, err := s.store.ConsoleLink(ctx, hashConsoleToken(token))
	if err != nil {
		if usercenter.ErrorCode(err) == usercenter.ENotFound {
			return nil, errLink()
		}
		return nil, err
	}
	if !link.UsedAt.IsZero() || !s.now().Before(link.ExpiresAt) {
		return nil, errLink()
	}
	if link.AccountID == "" {
		if need, err := s.ConsoleSetupNeeded(ctx); err != nil || !need {
			if err == nil {
				err = errLink() // another setup link was used first
			}
			return nil, err
		}
		return &ConsoleLinkInfo{Setup: true}, nil
	}
	acc, err := s.store.ConsoleAccount(ctx, link.AccountID)
	if err != nil {
		return nil, err
	}
	return &ConsoleLinkInfo{Email: acc.Email}, nil
}

// ConsoleSignedIn is a new console session: the token goes into the
// cookie, and is nowhere stored.
type ConsoleSignedIn struct {
	Account   usercenter.ConsoleAccount
	Token     string
	ExpiresAt time.Time
}

// RedeemConsoleLink uses a one-time link: it sets the account's password
// (for the first setup, creates the admin with email) and signs it in.
func (s *Service) RedeemConsoleLink(ctx context.Context, token, email, password string) (*ConsoleSignedIn, error) {
	if err := checkPasswordRule(password); err != nil {
		return nil, err
	}
	hash := hashPassword(password) // outside the transaction: it takes a while
	var out *ConsoleSignedIn
	err := s.store.Update(ctx, func(tx Tx) error {
		now := s.now().UTC()
		link, err := tx.TakeConsoleLink(ctx, hashConsoleToken(token), now)
		if err != nil {
			if usercenter.ErrorCode(err) == usercenter.ENotFound {
				return errLink()
			}
			return err
		}
		if !now.Before(link.ExpiresAt) {
			return errLink()
		}
		var (
			acc    *ConsoleAccountRecord
			audits []*usercenter.AuditEvent
		)
		if link.AccountID == "" {
			accounts, err := tx.ConsoleAccounts(ctx)
			if err != nil {
				return err
			}
			if len(accounts) > 0 {
				return errLink() // another setup link was used first
			}
			e, err := usercenter.ConsoleEmail(email)
			if err != nil {
				return err
			}
			acc = &ConsoleAccountRecord{ConsoleAccount: usercenter.ConsoleAccount{
				ID: usercenter.NewUserID(now), Email: e, Role: usercenter.RoleAdmin,
				Status: usercenter.ConsoleActive, CreatedAt: now,
			}, PasswordHash: hash}
			if err := tx.InsertConsoleAccount(ctx, acc); err != nil {
				return err
			}
			audits = append(audits, s.consoleAudit(ctx, usercenter.ConsoleActorName(acc.ID), usercenter.AuditConsoleAccountCreate, acc.ID))
		} else {
			if acc, err = tx.ConsoleAccount(ctx, link.AccountID); err != nil {
				return err
			}
			if acc.Status == usercenter.ConsoleDisabled {
				return errLink()
			}
			acc.PasswordHash = hash
			acc.Status = usercenter.ConsoleActive
			acc.FailedSignIns, acc.LockedUntil = 0, time.Time{}
			audits = append(audits, s.consoleAudit(ctx, usercenter.ConsoleActorName(acc.ID), usercenter.AuditConsoleAccountUpdate, acc.ID+":password"))
		}
		out, err = s.startConsoleSession(ctx, tx, acc, now, audits)
		return err
	})
	return out, err
}

// startConsoleSession notes a successful sign-in of acc, already written
// or to be updated, and stores its new session.
func (s *Service) startConsoleSession(ctx context.Context, tx Tx, acc *ConsoleAccountRecord, now time.Time, audits []*usercenter.AuditEvent) (*ConsoleSignedIn, error) {
	acc.FailedSignIns, acc.LockedUntil, acc.LastSignInAt = 0, time.Time{}, now
	if err := tx.UpdateConsoleAccount(ctx, acc); err != nil {
		return nil, err
	}
	token, hash := newConsoleToken()
	sess := &ConsoleSession{Hash: hash, AccountID: acc.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(ConsoleSessionMax)}
	if err := tx.InsertConsoleSession(ctx, sess); err != nil {
		return nil, err
	}
	audits = append(audits, s.consoleAudit(ctx, usercenter.ConsoleActorName(acc.ID), usercenter.AuditConsoleSignIn, acc.ID))
	if err := s.insertConsoleAudit(ctx, tx, audits...); err != nil {
		return nil, err
	}
	return &ConsoleSignedIn{Account: acc.ConsoleAccount, Token: token, ExpiresAt: sess.ExpiresAt}, nil
}

// ConsoleCredentials are what a sign-in form sends: an email and a
// password, then, for an account with two-factor, the Ticket the first
// step returned and a TOTP or recovery code. Addr is the client's network
// address, for the rate limit; it is stored only as a hash.
type ConsoleCredentials struct {
	Email, Password string
	Ticket, Code    string
	Addr            string
}

// ConsoleSignInResult is a session, or, when the account has two-factor
// and no code came, the Ticket to send with the code.
type ConsoleSignInResult struct {
	*ConsoleSignedIn
	Ticket string
}

// ConsoleSignIn signs an operator in. Failures are audited, count toward
// the account's lockout and the address's rate limit, and say nothing of
// which part was wrong; a locked account is refused before its password
// is checked.
func (s *Service) ConsoleSignIn(ctx context.Context, c ConsoleCredentials) (*ConsoleSignInResult, error) {
	if err := s.countConsoleAddress(ctx, c.Addr); err != nil {
		return nil, err
	}
	var (
		acc *ConsoleAccountRecord
		err error
	)
	if c.Ticket != "" {
		id, ok := s.openConsoleTicket(c.Ticket)
		if !ok {
			return nil, &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceToken, Message: "the sign-in took too long or its ticket is not valid; start again"}
		}
		if acc, err = s.store.ConsoleAccount(ctx, id); err != nil {
			return nil, err
		}
	} else {
		email, _ := usercenter.ConsoleEmail(c.Email)
		acc, err = s.store.ConsoleAccountByEmail(ctx, email)
		if usercenter.ErrorCode(err) == usercenter.ENotFound || err == nil && acc.PasswordHash == "" {
			checkPassword(dummyPasswordHash, c.Password)
			name := "console:unknown"
			if acc != nil {
				name = usercenter.ConsoleActorName(acc.ID)
			}
			if err := s.store.Update(ctx, func(tx Tx) error {
				return s.insertConsoleAudit(ctx, tx, s.consoleAudit(ctx, name, usercenter.AuditConsoleSignInFailed, ""))
			}); err != nil {
				return nil, err
			}
			return nil, errSignIn()
		}
		if err != nil {
			return nil, err
		}
	}
	now := s.now()
	if acc.Locked(now) {
		return nil, consoleLocked(acc)
	}
	if c.Ticket == "" && !checkPassword(acc.PasswordHash, c.Password) {
		return nil, s.consoleFailure(ctx, acc.ID)
	}
	if acc.Status != usercenter.ConsoleActive {
		return nil, &usercenter.Error{Code: usercenter.EDisabled, Resource: usercenter.ResourceConsoleAccount, Message: "this console account is disabled"}
	}
	useRecovery, totpStep := -1, int64(0)
	if acc.TwoFactor {
		code := strings.TrimSpace(c.Code)
		if code == "" {
			return &ConsoleSignInResult{Ticket: s.sealConsoleTicket(acc.ID, now)}, nil
		}
		ok, step, recovery := s.checkSecondFactor(acc, code, now)
		if !ok {
			return nil, s.consoleFailure(ctx, acc.ID)
		}
		useRecovery, totpStep = recovery, step
	}
	var out *ConsoleSignedIn
	err = s.store.Update(ctx, func(tx Tx) error {
		cur, err := tx.ConsoleAccount(ctx, acc.ID)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if cur.Status != usercenter.ConsoleActive || cur.Locked(now) || cur.PasswordHash != acc.PasswordHash {
			return errSignIn() // changed since it was checked
		}
		if totpStep > 0 {
			// The code's step must still be unused in this transaction:
			// two sign-ins with one code cannot both pass.
			if cur.TOTPStep >= totpStep {
				return errSignIn()
			}
			cur.TOTPStep = totpStep
		}
		if useRecovery >= 0 {
			// The code must still be unused in this transaction: two
			// sign-ins with one code cannot both take it.
			used := acc.RecoveryCodes[useRecovery]
			i := slices.IndexFunc(cur.RecoveryCodes, func(h []byte) bool { return bytes.Equal(h, used) })
			if i < 0 {
				return errSignIn()
			}
			cur.RecoveryCodes = slices.Delete(slices.Clone(cur.RecoveryCodes), i, i+1)
		}
		out, err = s.startConsoleSession(ctx, tx, cur, now, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ConsoleSignInResult{ConsoleSignedIn: out}, nil
}

func consoleLocked(acc *ConsoleAccountRecord) error {
	return &usercenter.Error{Code: usercenter.ERateLimited, Resource: usercenter.ResourceConsoleAccount,
		Message: fmt.Sprintf("this account is locked after %d failed sign-ins until %s UTC; an admin can lift the lock",
			ConsoleLockoutFailures, acc.LockedUntil.UTC().Format("2006-01-02 15:04"))}
}

// consoleFailure counts a failed sign-in of account id, locks it at
// ConsoleLockoutFailures in a row, and audits both.
func (s *Service) consoleFailure(ctx context.Context, id string) error {
	var locked *ConsoleAccountRecord
	err := s.store.Update(ctx, func(tx Tx) error {
		locked = nil
		acc, err := tx.ConsoleAccount(ctx, id)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		name := usercenter.ConsoleActorName(id)
		audits := []*usercenter.AuditEvent{s.consoleAudit(ctx, name, usercenter.AuditConsoleSignInFailed, id)}
		acc.FailedSignIns++
		if acc.FailedSignIns >= ConsoleLockoutFailures {
			acc.FailedSignIns = 0
			acc.LockedUntil = now.Add(ConsoleLockout)
			locked = acc
			audits = append(audits, s.consoleAudit(ctx, name, usercenter.AuditConsoleLockout, id))
		}
		if err := tx.UpdateConsoleAccount(ctx, acc); err != nil {
			return err
		}
		return s.insertConsoleAudit(ctx, tx, audits...)
	})
	if err != nil {
		return err
	}
	if locked != nil {
		return consoleLocked(locked)
	}
	return errSignIn()
}

// countConsoleAddress counts a sign-in attempt from addr and refuses it
// beyond ConsoleAddressAttempts a window. The address is kept only as a
// hash.
func (s *Service) countConsoleAddress(ctx context.Context, addr string) error {
	if addr == "" {
		return nil
	}
	h := sha256.Sum256([]byte("usercenter console address\x00" + addr))
	key := "addr:" + hex.EncodeToString(h[:16])
	limited := false
	err := s.store.Update(ctx, func(tx Tx) error {
		n, since, err := tx.ConsoleAttempts(ctx, key)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if since.IsZero() || now.Sub(since) >= ConsoleAddressWindow {
			n, since = 0, now
		}
		limited = n >= ConsoleAddressAttempts
		if limited {
			return nil
		}
		return tx.SetConsoleAttempts(ctx, key, n+1, since)
	})
	if err != nil {
		return err
	}
	if limited {
		return &usercenter.Error{Code: usercenter.ERateLimited, Message: fmt.Sprintf(
			"too many sign-in attempts from your address: at most %d every %d minutes; wait and try again",
			ConsoleAddressAttempts, int(ConsoleAddressWindow/time.Minute))}
	}
	return nil
}

// sealConsoleTicket seals the account that passed its password, with the
// ticket's end, for the second step.
func (s *Service) sealConsoleTicket(id string, now time.Time) string {
	pt := strconv.FormatInt(now.Add(consoleTicketTTL).Unix(), 10) + "|" + id
	return base64.RawURLEncoding.EncodeToString(s.vault.Seal([]byte(pt), aadConsoleTicket))
}

func (s *Service) openConsoleTicket(ticket string) (string, bool) {
	sealed, err := base64.RawURLEncoding.DecodeString(ticket)
	if err != nil {
		return "", false
	}
	pt, err := s.vault.Open(sealed, aadConsoleTicket)
	if err != nil {
		return "", false
	}
	end, id, ok := strings.Cut(string(pt), "|")
	unix, err := strconv.ParseInt(end, 10, 64)
	if !ok || err != nil || !s.now().Before(time.Unix(unix, 0)) {
		return "", false
	}
	return id, true
}

// checkSecondFactor checks a TOTP code, or else a recovery code. For a
// TOTP code it returns its step (see totpStep); for a recovery code its
// index in acc.RecoveryCodes.
func (s *Service) checkSecondFactor(acc *ConsoleAccountRecord, code string, now time.Time) (ok bool, step int64, recovery int) {
	if len(code) == 6 {
		secret, err := s.vault.Open(acc.SealedTOTP, aadConsoleTOTP(acc.ID))
		if err != nil {
			return false, 0, -1
		}
		step := totpStep(string(secret), code, now, acc.TOTPStep)
		return step > 0, step, -1
	}
	h := hashRecoveryCode(code)
	found := -1
	for i, c := range acc.RecoveryCodes {
		if subtle.ConstantTimeCompare(c, h) == 1 {
			found = i
		}
	}
	return found >= 0, 0, found
}

// totpStep returns the time step (Unix time / 30 s) whose code of secret
// code is, or 0. A code is good for its step and the steps either side
// (clocks drift), and only once: only a step after the last one used
// counts.
func totpStep(secret, code string, now time.Time, lastUsed int64) int64 {
	current := now.Unix() / 30
	for st := current - 1; st <= current+1; st++ {
		want, err := ConsoleSecretCode(secret, time.Unix(st*30, 0))
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && st > lastUsed {
			return st
		}
	}
	return 0
}

// hashRecoveryCode hashes a recovery code as typed, ignoring case, spaces
// and dashes.
func hashRecoveryCode(code string) []byte {
	code = strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
	h := sha256.Sum256([]byte("usercenter console recovery\x00" + code))
	return h[:]
}

// ConsoleSession checks a session cookie's token and returns its account
// and the actor it acts as. Sessions live in the store, so a sign-out on
// one node ends the session on every node at once.
func (s *Service) ConsoleSession(ctx context.Context, token string) (*usercenter.ConsoleAccount, *usercenter.Actor, error) {
	if token == "" {
		return nil, nil, errConsoleSession()
	}
	hash := hashConsoleToken(token)
	sess, err := s.store.ConsoleSession(ctx, hash)
	if err != nil {
		if usercenter.ErrorCode(err) == usercenter.ENotFound {
			return nil, nil, errConsoleSession()
		}
		return nil, nil, err
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= ConsoleSessionIdle {
		return nil, nil, errConsoleSession()
	}
	acc, err := s.store.ConsoleAccount(ctx, sess.AccountID)
	if err != nil {
		if usercenter.ErrorCode(err) == usercenter.ENotFound {
			return nil, nil, errConsoleSession()
		}
		return nil, nil, err
	}
	if acc.Status != usercenter.ConsoleActive {
		return nil, nil, errConsoleSession()
	}
	if now.Sub(sess.LastSeenAt) >= consoleTouchEvery {
		err := s.store.Update(ctx, func(tx Tx) error { return tx.TouchConsoleSession(ctx, hash, now.UTC()) })
		if usercenter.ErrorCode(err) == usercenter.ENotFound {
			return nil, nil, errConsoleSession()
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return &acc.ConsoleAccount, acc.Actor(), nil
}

// ConsoleSignOut ends the session of token, on every node.
func (s *Service) ConsoleSignOut(ctx context.Context, token string) error {
	hash := hashConsoleToken(token)
	return s.store.Update(ctx, func(tx Tx) error {
		sess, err := tx.ConsoleSession(ctx, hash)
		if usercenter.ErrorCode(err) == usercenter.ENotFound {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteConsoleSession(ctx, hash); err != nil {
			return err
		}
		return s.insertConsoleAudit(ctx, tx, s.consoleAudit(ctx, usercenter.ConsoleActorName(sess.AccountID), usercenter.AuditConsoleSignOut, sess.AccountID))
	})
}

// ConsoleTOTPEnrolment is a TOTP secret offered to an account, shown as a
// QR code and as text, waiting for its first code. Pending carries the
// secret sealed, to come back with that code.
type ConsoleTOTPEnrolment struct {
	Secret  string // base32, for typing into an authenticator
	URL     string // otpauth://totp/…
	QRPNG   []byte // the URL as a QR code, a PNG
	Pending string
}

// BeginConsoleTOTP offers a new TOTP secret to the signed-in account.
func (s *Service) BeginConsoleTOTP(ctx context.Context, acc *usercenter.ConsoleAccount) (*ConsoleTOTPEnrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "usercenter", AccountName: acc.Email, Rand: rand.Reader})
	if err != nil {
		return nil, usercenter.Internal(err)
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, usercenter.Internal(err)
	}
	var qr bytes.Buffer
	if err := png.Encode(&qr, img); err != nil {
		return nil, usercenter.Internal(err)
	}
	pt := strconv.FormatInt(s.now().Add(consoleEnrolTTL).Unix(), 10) + "|" + key.Secret()
	pending := base64.RawURLEncoding.EncodeToString(s.vault.Seal([]byte(pt), aadConsoleEnrol+acc.ID))
	return &ConsoleTOTPEnrolment{Secret: key.Secret(), URL: key.URL(), QRPNG: qr.Bytes(), Pending: pending}, nil
}

// ConfirmConsoleTOTP enrols the secret of pending once code proves the
// authenticator has it, and returns the new recovery codes, shown once.
func (s *Service) ConfirmConsoleTOTP(ctx context.Context, accountID, pending, code string) ([]string, error) {
	sealed, err := base64.RawURLEncoding.DecodeString(pending)
	if err != nil {
		return nil, usercenter.Invalid(usercenter.FieldCode, "comes from an enrolment that is not valid; start again")
	}
	pt, err := s.vault.Open(sealed, aadConsoleEnrol+accountID)
	if err != nil {
		return nil, usercenter.Invalid(usercenter.FieldCode, "comes from an enrolment that is not valid; start again")
	}
	end, secret, _ := strings.Cut(string(pt), "|")
	unix, _ := strconv.ParseInt(end, 10, 64)
	if !s.now().Before(time.Unix(unix, 0)) {
		return nil, usercenter.Invalid(usercenter.FieldCode, "comes from an enrolment that expired; start again")
	}
	// The enrolment's code is used: it cannot sign in after.
	step := totpStep(secret, strings.TrimSpace(code), s.now(), 0)
	if step == 0 {
		return nil, usercenter.Invalid(usercenter.FieldCode, "is not the current code of the authenticator")
	}
	codes := make([]string, ConsoleRecoveryCodes)
	hashes := make([][]byte, ConsoleRecoveryCodes)
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	for i := range codes {
		c := strings.ToLower(enc.EncodeToString(randomBytes(7)))[:10]
		codes[i] = c[:5] + "-" + c[5:]
		hashes[i] = hashRecoveryCode(codes[i])
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		acc, err := tx.ConsoleAccount(ctx, accountID)
		if err != nil {
			return err
		}
		acc.TwoFactor = true
		acc.SealedTOTP = s.vault.Seal([]byte(secret), aadConsoleTOTP(acc.ID))
		acc.RecoveryCodes = hashes
		acc.TOTPStep = step
		if err := tx.UpdateConsoleAccount(ctx, acc); err != nil {
			return err
		}
		return s.insertConsoleAudit(ctx, tx, s.consoleAudit(ctx, usercenter.ConsoleActorName(acc.ID), usercenter.AuditConsoleAccountUpdate, acc.ID+":two_factor"))
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// ConsoleAccounts lists every console account, for an admin.
func (s *Service) ConsoleAccounts(ctx context.Context, actor *usercenter.Actor) ([]usercenter.ConsoleAccount, error) {
	if err := requireConsoleManager(actor); err != nil {
		return nil, err
	}
	recs, err := s.store.ConsoleAccounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]usercenter.ConsoleAccount, len(recs))
	for i := range recs {
		out[i] = recs[i].ConsoleAccount
	}
	return out, nil
}

// ConsoleAccount returns one console account, for an admin.
func (s *Service) ConsoleAccount(ctx context.Context, actor *usercenter.Actor, id string) (*usercenter.ConsoleAccount, error) {
	if err := requireConsoleManager(actor); err != nil {
		return nil, err
	}
	rec, err := s.store.ConsoleAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	return &rec.ConsoleAccount, nil
}

// ConsoleAccountByEmail finds a console account by its email, for the CLI.
func (s *Service) ConsoleAccountByEmail(ctx context.Context, actor *usercenter.Actor, email string) (*usercenter.ConsoleAccount, error) {
	if err := requireConsoleManager(actor); err != nil {
		return nil, err
	}
	e, err := usercenter.ConsoleEmail(email)
	if err != nil {
		return nil, err
	}
	rec, err := s.store.ConsoleAccountByEmail(ctx, e)
	if err != nil {
		return nil, err
	}
	return &rec.ConsoleAccount, nil
}

// ConsoleAccountChange is what an admin changes of an account; nil fields
// and false flags stay as they are.
type ConsoleAccountChange struct {
	Role *usercenter.ConsoleRole
	// Apps limits the account to some apps; a pointer to nil lifts the
	// limit (every app).
	Apps *[]uint64
	// Disable or Enable the account; disabling ends its sessions.
	Disable, Enable bool
	// ResetTwoFactor removes the TOTP secret and the recovery codes.
	ResetTwoFactor bool
	// Unlock lifts a lockout after failed sign-ins.
	Unlock bool
}

// ChangeConsoleAccount applies an admin's change to account id, audits
// each setting changed, and refuses what would leave the instance without
// an active admin of every app.
func (s *Service) ChangeConsoleAccount(ctx context.Context, actor *usercenter.Actor, id string, c ConsoleAccountChange) (*usercenter.ConsoleAccount, error) {
	if err := requireConsoleManager(actor); err != nil {
		return nil, err
	}
	if c.Role != nil {
		if _, err := usercenter.ParseConsoleRole(string(*c.Role)); err != nil {
			return nil, err
		}
	}
	var apps []uint64
	if c.Apps != nil && *c.Apps != nil {
		apps = slices.Compact(slices.Sorted(slices.Values(*c.Apps)))
		if apps == nil {
			apps = []uint64{}
		}
	}
	if c.Disable && c.Enable {
		return nil, usercenter.Invalid(usercenter.FieldStatus, "must be either disabled or enabled")
	}
	var out *usercenter.ConsoleAccount
	err := s.store.Update(ctx, func(tx Tx) error {
		acc, err := tx.ConsoleAccount(ctx, id)
		if err != nil {
			return err
		}
		wasManager := acc.Status == usercenter.ConsoleActive && acc.Actor().ManagesConsole
		var changed []string
		if c.Role != nil && *c.Role != acc.Role {
			acc.Role = *c.Role
			changed = append(changed, "role")
		}
		if c.Apps != nil {
			if err := checkConsoleApps(ctx, tx, apps); err != nil {
				return err
			}
			if !slices.Equal(apps, acc.Apps) || (apps == nil) != (acc.Apps == nil) {
				acc.Apps = apps
				changed = append(changed, "apps")
			}
		}
		sessionsEnd := false
		if c.Disable && acc.Status != usercenter.ConsoleDisabled {
			acc.Status = usercenter.ConsoleDisabled
			changed = append(changed, "status")
			sessionsEnd = true
		}
		if c.Enable && acc.Status == usercenter.ConsoleDisabled {
			acc.Status = usercenter.ConsoleActive
			if acc.PasswordHash == "" {
				acc.Status = usercenter.ConsoleInvited
			}
			changed = append(changed, "status")
		}
		if c.ResetTwoFactor && acc.TwoFactor {
			acc.TwoFactor, acc.SealedTOTP, acc.RecoveryCodes, acc.TOTPStep = false, nil, nil, 0
			changed = append(changed, "two_factor")
		}
		if c.Unlock && (!acc.LockedUntil.IsZero() || acc.FailedSignIns > 0) {
			acc.LockedUntil, acc.FailedSignIns = time.Time{}, 0
			changed = append(changed, "lock")
		}
		if wasManager && !(acc.Status == usercenter.ConsoleActive && acc.Actor().ManagesConsole) {
			if err := keepOneManager(ctx, tx, acc.ID); err != nil {
				return err
			}
		}
		out = &acc.ConsoleAccount
		if len(changed) == 0 {
			return nil
		}
		if err := tx.UpdateConsoleAccount(ctx, acc); err != nil {
			return err
		}
		if sessionsEnd {
			if _, err := tx.DeleteConsoleSessions(ctx, acc.ID); err != nil {
				return err
			}
		}
		audits := make([]*usercenter.AuditEvent, len(changed))
		for i, setting := range changed {
			audits[i] = s.consoleAudit(ctx, actor.Name, usercenter.AuditConsoleAccountUpdate, acc.ID+":"+setting)
		}
		return s.insertConsoleAudit(ctx, tx, audits...)
	})
	return out, err
}

// keepOneManager fails unless an active admin of every app other than
// except remains.
func keepOneManager(ctx context.Context, tx Tx, except string) error {
	all, err := tx.ConsoleAccounts(ctx)
	if err != nil {
		return err
	}
	for _, a := range all {
		if a.ID != except && a.Status == usercenter.ConsoleActive && a.Actor().ManagesConsole {
			return nil
		}
	}
	return usercenter.Invalid(usercenter.FieldRole, "must leave at least one active admin of every app")
}

// PurgeConsole deletes expired console sessions and links and old
// attempt counts.
func (s *Service) PurgeConsole(ctx context.Context) (int, error) {
	return s.deleteExpired(ctx, Tx.DeleteExpiredConsole)
}

// ConsoleSecretCode computes the current TOTP code of a secret, for tests
// and for the CLI; it does not touch the store.
func ConsoleSecretCode(secret string, at time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// ConsoleAccountNames maps the actor names of console accounts
// ("console:<ID>") to their emails, for whoever may read the audit trail:
// the events name accounts by ID, and a page of them shows the emails.
func (s *Service) ConsoleAccountNames(ctx context.Context, actor *usercenter.Actor) (map[string]string, error) {
	if err := actor.Require(usercenter.PermUsersRead); err != nil {
		return nil, err
	}
	recs, err := s.store.ConsoleAccounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(recs))
	for _, a := range recs {
		out[usercenter.ConsoleActorName(a.ID)] = a.Email
	}
	return out, nil
}
