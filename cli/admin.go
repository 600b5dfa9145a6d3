package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
)

// defaultConsoleURL is where the console's links point unless --url says
// otherwise: serve's default address.
const defaultConsoleURL = "http://127.0.0.1:8080"

const adminCreateLong = `Creates a console account, with no password yet, and prints a one-time
sign-in link: whoever opens it first, within an hour, chooses the
account's password (and may enrol a TOTP authenticator). The link works
once. Roles: admin (everything; with no --apps also the console
accounts), support (users: view, reveal with a reason, change, disable),
viewer (masked users and the audit trail). --apps limits the account to
some apps.

The link starts with --url, the address browsers reach the server at
(default http://127.0.0.1:8080, serve's default --addr; also
USERCENTER_URL). See docs/console.md.
`

// consoleLink is the one-time link of token on the server at base.
func consoleLink(base, token string) string {
	return strings.TrimRight(base, "/") + "/console/link/" + token
}

// urlFlag registers --url and returns a function that checks it.
func urlFlag(fs *flag.FlagSet) func() (string, error) {
	u := fs.String("url", defaultConsoleURL, "the address browsers reach the server at, which the link starts with")
	return func() (string, error) {
		p, err := url.Parse(*u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return "", usageError{msg: fmt.Sprintf("--url must be an http or https URL such as %s", defaultConsoleURL)}
		}
		return strings.TrimRight(*u, "/"), nil
	}
}

func adminCreate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("admin create", stdout, stderr)
	email := fs.String("email", "", "the operator's email, which signs in (required)")
	role := fs.String("role", string(usercenter.RoleAdmin), "admin, support or viewer")
	appsFlag := fs.String("apps", "", "comma-separated SdkAppIds the account is limited to (default: every app)")
	base := urlFlag(fs)
	if _, err := parse(fs, args, getenv); err != nil {
		return err
	}
	if *email == "" {
		return usageError{msg: "admin create needs --email"}
	}
	r, err := usercenter.ParseConsoleRole(*role)
	if err != nil {
		return usageError{msg: errMessage(err).Error()}
	}
	var apps []uint64
	if *appsFlag != "" {
		for s := range strings.SplitSeq(*appsFlag, ",") {
			id, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return usageError{msg: fmt.Sprintf("--apps: %q is not an SdkAppId", s)}
			}
			apps = append(apps, id)
		}
	}
	u, err := base()
	if err != nil {
		return err
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		acc, token, err := inst.svc.CreateConsoleAccount(ctx, operator(), *email, r, apps)
		if err != nil {
			return errMessage(err)
		}
		fmt.Fprintf(stdout, "Created the console account %s (%s, %s).\n", acc.Email, acc.Role, appsText(acc.Apps))
		fmt.Fprintf(stdout, "Open this link within %v to set its password; it works once:\n  %s\n", core.ConsoleLinkTTL, consoleLink(u, token))
		return nil
	})
}

func appsText(apps []uint64) string {
	if apps == nil {
		return "every app"
	}
	s := make([]string, len(apps))
	for i, a := range apps {
		s[i] = strconv.FormatUint(a, 10)
	}
	return "apps " + strings.Join(s, ",")
}

type consoleAccountJSON struct {
	ID           string   `json:"id"`
	Email        string   `json:"email"`
	Role         string   `json:"role"`
	Apps         []uint64 `json:"apps"`
	Status       string   `json:"status"`
	TwoFactor    bool     `json:"twoFactor"`
	LockedUntil  string   `json:"lockedUntil,omitempty"`
	CreatedAt    string   `json:"createdAt"`
	LastSignInAt string   `json:"lastSignInAt,omitempty"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func adminList(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("admin list", stdout, stderr)
	asJSON := fs.Bool("json", false, "print one JSON array")
	if _, err := parse(fs, args, getenv); err != nil {
		return err
	}
	return sf.withInstance(ctx, readOnly, func(inst *instance) error {
		accounts, err := inst.svc.ConsoleAccounts(ctx, operator())
		if err != nil {
			return errMessage(err)
		}
		now := inst.svc.Now()
		out := jsonList(accounts, func(a *usercenter.ConsoleAccount) consoleAccountJSON {
			j := consoleAccountJSON{ID: a.ID, Email: a.Email, Role: string(a.Role), Apps: a.Apps, Status: string(a.Status),
				TwoFactor: a.TwoFactor, CreatedAt: rfc3339(a.CreatedAt), LastSignInAt: rfc3339(a.LastSignInAt)}
			if a.Locked(now) {
				j.LockedUntil = rfc3339(a.LockedUntil)
			}
			return j
		})
		return writeResult(stdout, *asJSON, out, func() error {
			if len(out) == 0 {
				fmt.Fprintln(stdout, "No console accounts yet: serve prints a setup link on start, or use usercenter admin create --email E.")
				return nil
			}
			tw := newTable(stdout)
			fmt.Fprintln(tw, "EMAIL\tROLE\tAPPS\tSTATUS\tTWO-FACTOR\tLOCKED UNTIL\tLAST SIGN-IN")
			for _, a := range out {
				apps := "all"
				if a.Apps != nil {
					apps = strings.TrimPrefix(appsText(a.Apps), "apps ")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\t%s\n", a.Email, a.Role, apps, a.Status, a.TwoFactor, dash(a.LockedUntil), dash(a.LastSignInAt))
			}
			return tw.Flush()
		})
	})
}

// adminChange is a command that changes one account, named by its email.
func adminChange(path, done string, change core.ConsoleAccountChange) command {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
		fs, sf := newStoreFlagSet(path, stdout, stderr)
		pos, err := parse(fs, args, getenv)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError{msg: path + " needs one EMAIL"}
		}
		return sf.withInstance(ctx, readWrite, func(inst *instance) error {
			acc, err := inst.svc.ConsoleAccountByEmail(ctx, operator(), pos[0])
			if err != nil {
				return errMessage(err)
			}
			if _, err := inst.svc.ChangeConsoleAccount(ctx, operator(), acc.ID, change); err != nil {
				return errMessage(err)
			}
			fmt.Fprintf(stdout, "%s: %s.\n", acc.Email, done)
			return nil
		})
	}
}

func adminLink(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("admin link", stdout, stderr)
	base := urlFlag(fs)
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{msg: "admin link needs one EMAIL"}
	}
	u, err := base()
	if err != nil {
		return err
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		acc, err := inst.svc.ConsoleAccountByEmail(ctx, operator(), pos[0])
		if err != nil {
			return errMessage(err)
		}
		token, err := inst.svc.NewConsoleLink(ctx, operator(), acc.ID)
		if err != nil {
			return errMessage(err)
		}
		fmt.Fprintf(stdout, "Open this link within %v to set a new password for %s; it works once:\n  %s\n", core.ConsoleLinkTTL, acc.Email, consoleLink(u, token))
		return nil
	})
}
