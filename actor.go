package usercenter

import (
	"context"
	"slices"
)

// Actor is who makes a call: an API key, the operator at the command line,
// or a facade acting for one app. Every use case checks its scope and
// permissions, and audit events name it.
type Actor struct {
	// Name identifies the actor in audit events: "key:<SecretId>",
	// "operator", "cli:<OS user>" or "facade:<name>".
	Name        string
	Apps        []uint64 // the apps it may act on, unless AllApps
	AllApps     bool
	Permissions []Permission
	// ManagesConsole lets the actor manage console accounts: the operator
	// at the command line, and a console admin of every app.
	ManagesConsole bool
	// ManagesApps lets the actor create apps and change their settings,
	// API keys and SuperApp secrets, in the apps of its scope: the command
	// line and a console admin. API keys never do.
	ManagesApps bool
	// NeedsReason makes every plain disclosure of personal data by the
	// actor carry a written reason, recorded with its audit events: a
	// console account, which a person uses by hand.
	NeedsReason bool
	// onAdmit is what must happen once a request of this actor has been
	// admitted (scoped, permitted and within its rate limit), before it
	// has any effect: core remembers a signed request against replays
	// there, so that neither strangers nor refused requests fill the
	// memory.
	onAdmit func(context.Context) error
}

// OnAdmit sets what Admitted runs; it replaces any earlier f.
func (a *Actor) OnAdmit(f func(context.Context) error) { a.onAdmit = f }

// Admitted runs, once, what OnAdmit set; later calls return nil.
func (a *Actor) Admitted(ctx context.Context) error {
	f := a.onAdmit
	if f == nil {
		return nil
	}
	a.onAdmit = nil
	return f(ctx)
}

// Operator is the command line: an operator with the database and the
// master key in hand may do anything.
func Operator() *Actor {
	return &Actor{Name: "operator", AllApps: true, Permissions: AllPermissions, ManagesConsole: true, ManagesApps: true}
}

// OperatorAs is Operator under a name that says who the operator is
// ("cli:<OS user>"), for the audit trail of administrative changes.
func OperatorAs(name string) *Actor {
	a := Operator()
	a.Name = name
	return a
}

// Actor returns the actor a key acts as.
func (k *APIKey) Actor() *Actor {
	return &Actor{Name: "key:" + k.SecretID, Apps: k.Apps, Permissions: k.Permissions}
}

// Has reports whether the actor carries permission p.
func (a *Actor) Has(p Permission) bool { return slices.Contains(a.Permissions, p) }

// Scoped reports whether the actor may act on app sdkAppID.
func (a *Actor) Scoped(sdkAppID uint64) bool { return a.AllApps || slices.Contains(a.Apps, sdkAppID) }

// Authorize checks that the actor may use permission p on app sdkAppID.
func (a *Actor) Authorize(sdkAppID uint64, p Permission) error {
	if !a.Scoped(sdkAppID) {
		return Forbidden("the key is not scoped to SdkAppId %d", sdkAppID)
	}
	return a.Require(p)
}

// RequireManage checks that the actor may manage app sdkAppID (its
// settings, keys and secrets), or, for 0, create apps: only an actor of
// every app may.
func (a *Actor) RequireManage(sdkAppID uint64) error {
	if !a.ManagesApps {
		return Forbidden("managing apps needs an administrator")
	}
	if sdkAppID == 0 && !a.AllApps {
		return Forbidden("creating apps needs an administrator of every app")
	}
	if sdkAppID != 0 && !a.Scoped(sdkAppID) {
		return NotFound(ResourceApp)
	}
	return nil
}

// Require checks that the actor carries permission p.
func (a *Actor) Require(p Permission) error {
	if !a.Has(p) {
		return Forbidden("the key lacks the %s permission", p)
	}
	return nil
}

type requestIDKey struct{}

// WithRequestID records the ID of the request being served, so that audit
// events can name it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the ID recorded by WithRequestID, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
