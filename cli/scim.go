package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"usercenter"
)

const scimTokenLong = `An identity provider (Entra ID, Okta, …) provisions the app's users over
SCIM 2.0 at /scim/v2/SDKAPPID/ with this token as its bearer token. Every
token reads the app's users; --perms adds users.write (create, change and
delete them) and pii.read (read phone numbers, emails and addresses in
plain, each read audited). The token is shown only once and stored as its
SHA-256.
`

type scimTokenJSON struct {
	ID          string   `json:"Id"`
	Token       string   `json:"Token,omitempty"`
	SdkAppID    uint64   `json:"SdkAppId"`
	Permissions []string `json:"Permissions"`
	CreatedAt   string   `json:"CreatedAt"`
	RevokedAt   string   `json:"RevokedAt,omitempty"`
}

func toSCIMTokenJSON(t *usercenter.SCIMToken) scimTokenJSON {
	out := scimTokenJSON{ID: t.ID, Token: t.Token, SdkAppID: t.SdkAppID, CreatedAt: t.CreatedAt.Format(time.RFC3339)}
	for _, p := range t.Permissions {
		out.Permissions = append(out.Permissions, string(p))
	}
	if t.Revoked() {
		out.RevokedAt = t.RevokedAt.Format(time.RFC3339)
	}
	return out
}

func scimTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("scim token create", stdout, stderr)
	appFlag := fs.String("app", "", "the SdkAppId whose users the token provisions (required)")
	permsFlag := fs.String("perms", "users.write", "comma-separated permissions beyond users.read: users.write, pii.read")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if _, err := parse(fs, args, getenv); err != nil {
		return err
	}
	app, ok := usercenter.ParseSdkAppID(*appFlag)
	if !ok {
		return usageError{msg: "scim token create needs --app SDKAPPID", cmd: "scim token create"}
	}
	var perms []usercenter.Permission
	if strings.TrimSpace(*permsFlag) != "" {
		var err error
		if perms, err = usercenter.ParsePermissions(*permsFlag); err != nil {
			return usageError{msg: errMessage(err).Error(), cmd: "scim token create"}
		}
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		tok, err := inst.svc.CreateSCIMToken(ctx, operator(), app, perms)
		if e := usercenter.ErrorOf(err); err != nil && e.Code == usercenter.ENotFound && e.Resource == usercenter.ResourceApp {
			return fmt.Errorf("there is no app %d (see usercenter app list)", app)
		}
		if err != nil {
			return errMessage(err)
		}
		return writeResult(stdout, *asJSON, toSCIMTokenJSON(tok), func() error {
			fmt.Fprintf(stdout, "Created SCIM token %s for app %d with %v.\n\n  Base URL  /scim/v2/%d/\n  Token     %s\n\nThe token is shown only now: store it safely.\n",
				tok.ID, tok.SdkAppID, tok.Permissions, tok.SdkAppID, tok.Token)
			return nil
		})
	})
}

func scimTokenList(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("scim token list", stdout, stderr)
	appFlag := fs.String("app", "", "the SdkAppId whose tokens to list (required)")
	asJSON := fs.Bool("json", false, "print one JSON array")
	if _, err := parse(fs, args, getenv); err != nil {
		return err
	}
	app, ok := usercenter.ParseSdkAppID(*appFlag)
	if !ok {
		return usageError{msg: "scim token list needs --app SDKAPPID", cmd: "scim token list"}
	}
	return sf.withInstance(ctx, readOnly, func(inst *instance) error {
		toks, err := inst.svc.SCIMTokens(ctx, operator(), app)
		if err != nil {
			return errMessage(err)
		}
		out := jsonList(toks, toSCIMTokenJSON)
		return writeResult(stdout, *asJSON, out, func() error {
			tw := newTable(stdout)
			fmt.Fprintln(tw, "ID\tPERMISSIONS\tCREATED\tSTATUS")
			for _, t := range out {
				status := "live"
				if t.RevokedAt != "" {
					status = "revoked " + t.RevokedAt
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, strings.Join(t.Permissions, ","), t.CreatedAt, status)
			}
			return tw.Flush()
		})
	})
}

func scimTokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("scim token revoke", stdout, stderr)
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{msg: "scim token revoke needs one token ID", cmd: "scim token revoke"}
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		if err := inst.svc.RevokeSCIMToken(ctx, operator(), pos[0]); err != nil {
			return errMessage(err)
		}
		fmt.Fprintf(stdout, "Revoked %s: requests bearing it now fail.\n", pos[0])
		return nil
	})
}
