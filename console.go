package usercenter

import (
	"strings"
	"time"
)

// ConsoleRole is what a console account may do. The console acts through
// the same use cases as every facade, so a role is a set of permissions
// (Actor.Permissions), plus, for an admin of every app, the management of
// console accounts (Actor.ManagesConsole).
type ConsoleRole string

const (
	// RoleAdmin may do everything: apps, keys, users, reveals, and, when
	// not limited to some apps, console accounts.
	RoleAdmin ConsoleRole = "admin"
	// RoleSupport reads and changes users and may reveal their personal
	// data, giving a reason.
	RoleSupport ConsoleRole = "support"
	// RoleViewer sees masked users and the audit trail.
	RoleViewer ConsoleRole = "viewer"
)

// ConsoleRoles lists every role, most powerful first.
var ConsoleRoles = []ConsoleRole{RoleAdmin, RoleSupport, RoleViewer}

// ParseConsoleRole reads a role's name.
func ParseConsoleRole(s string) (ConsoleRole, error) {
	for _, r := range ConsoleRoles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", Invalid(FieldRole, "must be admin, support or viewer")
}

// Permissions are the permissions a role grants.
func (r ConsoleRole) Permissions() []Permission {
	switch r {
	case RoleAdmin:
		return AllPermissions
	case RoleSupport:
		return []Permission{PermUsersRead, PermUsersWrite, PermPIIRead}
	case RoleViewer:
		return []Permission{PermUsersRead}
	}
	return nil
}

// ConsoleStatus is the state of a console account.
type ConsoleStatus string

const (
	// ConsoleInvited: created, waiting for its one-time link to set a
	// password.
	ConsoleInvited  ConsoleStatus = "invited"
	ConsoleActive   ConsoleStatus = "active"
	ConsoleDisabled ConsoleStatus = "disabled"
)

// ConsoleAccount is an operator who signs in to the web console. Its
// secrets (password hash, TOTP secret, recovery codes) live only in core's
// record of it.
type ConsoleAccount struct {
	// ID is a KSUID; audit events name the account "console:<ID>", not by
	// its email, which is the operator's personal data.
	ID     string
	Email  string // lower case, unique
	Role   ConsoleRole
	Apps   []uint64 // the apps it is limited to; nil: every app
	Status ConsoleStatus
	// TwoFactor says whether a TOTP second factor is enrolled.
	TwoFactor bool
	// FailedSignIns counts the failed sign-ins since the last success;
	// LockedUntil, when in the future, refuses every sign-in.
	FailedSignIns int
	LockedUntil   time.Time
	CreatedAt     time.Time
	LastSignInAt  time.Time // zero until the first
}

// ConsoleActorPrefix starts the Actor.Name of a console account.
const ConsoleActorPrefix = "console:"

// ConsoleActorName is the name audit events give the account id.
func ConsoleActorName(id string) string { return ConsoleActorPrefix + id }

// ConsoleAccountID returns the account an actor name of the console names.
func ConsoleAccountID(actorName string) (string, bool) {
	return strings.CutPrefix(actorName, ConsoleActorPrefix)
}

// Actor is who the account acts as: its role's permissions over its apps.
// Only an admin of every app manages console accounts: one limited to some
// apps could otherwise invite an admin of all.
func (a *ConsoleAccount) Actor() *Actor {
	return &Actor{
		Name:           ConsoleActorName(a.ID),
		Apps:           a.Apps,
		AllApps:        a.Apps == nil,
		Permissions:    a.Role.Permissions(),
		ManagesConsole: a.Role == RoleAdmin && a.Apps == nil,
		ManagesApps:    a.Role == RoleAdmin,
		// A person at a browser discloses personal data by hand: each
		// reveal says why.
		NeedsReason: true,
	}
}

// Locked reports whether sign-ins are refused at now for repeated failures.
func (a *ConsoleAccount) Locked(now time.Time) bool { return now.Before(a.LockedUntil) }

// ConsoleEmail validates a console account's email and returns it in the
// form it is stored and compared in (lower case): the users' own rule.
func ConsoleEmail(s string) (string, error) {
	email, err := NormalizeEmail(FieldEmail, s)
	if err == nil && email == "" {
		err = Invalid(FieldEmail, "must be an email address such as ops@example.com")
	}
	return email, err
}
