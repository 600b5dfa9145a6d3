package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
)

// userJSON is the machine-readable form of a user. Phone, Email and
// Address are masked unless revealed.
type userJSON struct {
	UserId        string            `json:"UserId"`
	SdkAppId      uint64            `json:"SdkAppId"`
	UserDomain    string            `json:"UserDomain"`
	OriginId      string            `json:"OriginId"`
	Status        int               `json:"Status"`
	Nickname      string            `json:"Nickname"`
	Avatar        string            `json:"Avatar"`
	Phone         string            `json:"Phone"`
	Email         string            `json:"Email"`
	Address       string            `json:"Address"`
	City          string            `json:"City"`
	Province      string            `json:"Province"`
	Nationality   string            `json:"Nationality"`
	Lang          string            `json:"Lang"`
	Timezone      string            `json:"Timezone"`
	Sex           string            `json:"Sex"`
	Signature     string            `json:"Signature"`
	Remark        string            `json:"Remark"`
	LogonMode     int               `json:"LogonMode"`
	ThirdPartyIds map[string]string `json:"ThirdPartyIds"`
	CreatedAt     string            `json:"CreatedAt"`
	UpdatedAt     string            `json:"UpdatedAt"`
	LastLoginAt   string            `json:"LastLoginAt"` // "" before the first login
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func toUserJSON(u *usercenter.User) userJSON {
	out := userJSON{
		UserId: u.ID, SdkAppId: u.SdkAppID, UserDomain: u.UserDomain, OriginId: u.OriginID, Status: int(u.Status),
		Nickname: u.Nickname, Avatar: u.Avatar, Phone: u.Phone, Email: u.Email, Address: u.Address,
		City: u.City, Province: u.Province, Nationality: u.Nationality, Lang: u.Lang, Timezone: u.Timezone,
		Sex: u.Sex, Signature: u.Signature, Remark: u.Remark, LogonMode: int(u.LogonMode),
		ThirdPartyIds: map[string]string{},
		CreatedAt:     formatTime(u.CreatedAt), UpdatedAt: formatTime(u.UpdatedAt), LastLoginAt: formatTime(u.LastLoginAt),
	}
	for p, id := range u.ThirdParty {
		out.ThirdPartyIds[string(p)] = id
	}
	return out
}

// printUser writes a user for a person to read.
func printUser(w io.Writer, u *usercenter.User) error {
	j := toUserJSON(u)
	status := "1 (normal)"
	if u.Status != usercenter.UserActive {
		status = strconv.Itoa(int(u.Status)) + " (disabled)"
	}
	lastLogin := j.LastLoginAt
	if lastLogin == "" {
		lastLogin = "never"
	}
	var links []string
	for p, id := range j.ThirdPartyIds {
		links = append(links, p+"="+id)
	}
	sort.Strings(links)
	tw := newTable(w)
	for _, row := range [][2]string{
		{"UserId", j.UserId},
		{"SdkAppId", strconv.FormatUint(j.SdkAppId, 10)},
		{"UserDomain", j.UserDomain},
		{"OriginId", j.OriginId},
		{"Status", status},
		{"Nickname", j.Nickname},
		{"Avatar", j.Avatar},
		{"Phone", j.Phone},
		{"Email", j.Email},
		{"Address", j.Address},
		{"City", j.City},
		{"Province", j.Province},
		{"Nationality", j.Nationality},
		{"Lang", j.Lang},
		{"Timezone", j.Timezone},
		{"Sex", j.Sex},
		{"Signature", j.Signature},
		{"Remark", j.Remark},
		{"LogonMode", strconv.Itoa(j.LogonMode)},
		{"ThirdPartyIds", strings.Join(links, " ")},
		{"CreatedAt", j.CreatedAt},
		{"UpdatedAt", j.UpdatedAt},
		{"LastLoginAt", lastLogin},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

// revealFlag parses --reveal phone,email,address.
func revealFlag(s string) ([]usercenter.PIIField, error) {
	var out []usercenter.PIIField
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		if f == "all" {
			return slices.Clone(usercenter.PIIFields), nil
		}
		if !slices.Contains(usercenter.PIIFields, usercenter.PIIField(f)) {
			return nil, usageError{msg: fmt.Sprintf("--reveal: unknown field %q (known: phone, email, address, all)", f)}
		}
		if !slices.Contains(out, usercenter.PIIField(f)) {
			out = append(out, usercenter.PIIField(f))
		}
	}
	return out, nil
}

// revealAccess is what user get and find need: reading, unless they
// reveal personal data, which writes the disclosure to the audit trail.
func revealAccess(reveal []usercenter.PIIField) access {
	if len(reveal) > 0 {
		return readWrite
	}
	return readOnly
}

const revealHelp = "comma-separated personal data to show in plain text: phone, email, address, or all (each disclosure is audited)"

func userGet(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("user get", stdout, stderr)
	revealStr := fs.String("reveal", "", revealHelp)
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{msg: "user get needs one UserId"}
	}
	reveal, err := revealFlag(*revealStr)
	if err != nil {
		return err
	}
	return sf.withInstance(ctx, revealAccess(reveal), func(inst *instance) error {
		u, err := inst.svc.GetUser(ctx, operator(), pos[0], reveal)
		if err != nil {
			return errMessage(err)
		}
		return writeResult(stdout, *asJSON, toUserJSON(u), func() error { return printUser(stdout, u) })
	})
}

func userFind(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("user find", stdout, stderr)
	app := fs.Uint64("app", 0, "SdkAppId of the app to search (required)")
	var l core.UserQuery
	fs.StringVar(&l.OriginID, "origin-id", "", "find the user with this OriginId")
	fs.StringVar(&l.Phone, "phone", "", "find the users with this phone number (E.164, or national in the app's phone region)")
	fs.StringVar(&l.Email, "email", "", "find the users with this email address")
	provider := fs.String("provider", "", "with --provider-user-id: find the user linked to this third-party provider")
	fs.StringVar(&l.ProviderUserID, "provider-user-id", "", "the user's ID at --provider")
	revealStr := fs.String("reveal", "", revealHelp)
	asJSON := fs.Bool("json", false, "print one JSON array")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		// The stray argument is likely a phone or email typed without its
		// flag: say where it is, never what it is.
		return usageError{msg: fmt.Sprintf("user find takes no arguments, only flags (got %d)", len(pos))}
	}
	if *app == 0 {
		return usageError{msg: "user find needs --app"}
	}
	l.Provider = usercenter.Provider(*provider)
	n := 0
	for _, set := range []bool{l.OriginID != "", l.Phone != "", l.Email != "", *provider != "" || l.ProviderUserID != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return usageError{msg: "user find needs exactly one of --origin-id, --phone, --email, or --provider with --provider-user-id"}
	}
	if (*provider == "") != (l.ProviderUserID == "") {
		return usageError{msg: "--provider and --provider-user-id go together"}
	}
	reveal, err := revealFlag(*revealStr)
	if err != nil {
		return err
	}
	return sf.withInstance(ctx, revealAccess(reveal), func(inst *instance) error {
		l.SdkAppID, l.Reveal, l.Limit = *app, reveal, core.MaxPageSize
		page, err := inst.svc.ListUsers(ctx, operator(), l)
		if err != nil {
			return errMessage(err)
		}
		users := page.Users
		return writeResult(stdout, *asJSON, jsonList(users, toUserJSON), func() error {
			if len(users) == 0 {
				fmt.Fprintln(stdout, "No user matches.")
				return nil
			}
			for i := range users {
				if i > 0 {
					fmt.Fprintln(stdout)
				}
				if err := printUser(stdout, &users[i]); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// userFields maps the field names of `user set` to the patch they set.
var userFields = map[string]func(p *core.UserPatch, v string) error{
	"nickname":    text(func(p *core.UserPatch) **string { return &p.Nickname }),
	"avatar":      text(func(p *core.UserPatch) **string { return &p.Avatar }),
	"phone":       text(func(p *core.UserPatch) **string { return &p.Phone }),
	"email":       text(func(p *core.UserPatch) **string { return &p.Email }),
	"address":     text(func(p *core.UserPatch) **string { return &p.Address }),
	"city":        text(func(p *core.UserPatch) **string { return &p.City }),
	"province":    text(func(p *core.UserPatch) **string { return &p.Province }),
	"nationality": text(func(p *core.UserPatch) **string { return &p.Nationality }),
	"lang":        text(func(p *core.UserPatch) **string { return &p.Lang }),
	"timezone":    text(func(p *core.UserPatch) **string { return &p.Timezone }),
	"sex":         text(func(p *core.UserPatch) **string { return &p.Sex }),
	"signature":   text(func(p *core.UserPatch) **string { return &p.Signature }),
	"remark":      text(func(p *core.UserPatch) **string { return &p.Remark }),
	"originId":    text(func(p *core.UserPatch) **string { return &p.OriginID }),
	"status": func(p *core.UserPatch, v string) error {
		var s usercenter.UserStatus
		switch v {
		case "0":
			s = usercenter.UserDisabled
		case "1":
			s = usercenter.UserActive
		default:
			return fmt.Errorf("status must be 0 (disabled) or 1 (normal), not %q", v)
		}
		p.Status = &s
		return nil
	},
	"logonMode": func(p *core.UserPatch, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("logonMode must be an integer, not %q", v)
		}
		m := usercenter.LogonMode(n)
		p.LogonMode = &m
		return nil
	},
}

func text(field func(*core.UserPatch) **string) func(*core.UserPatch, string) error {
	return func(p *core.UserPatch, v string) error {
		*field(p) = &v
		return nil
	}
}

const thirdPartyPrefix = "thirdPartyIds."

func knownUserFields() string {
	names := make([]string, 0, len(userFields)+1)
	for name := range userFields {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(append(names, thirdPartyPrefix+"<provider>"), ", ")
}

// parseAssignments turns field=value arguments into a patch. An empty value
// clears a text field or unlinks a provider.
func parseAssignments(args []string) (core.UserPatch, error) {
	var p core.UserPatch
	seen := map[string]bool{}
	for i, a := range args {
		name, value, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			// The argument may be personal data: name its position only.
			return p, usageError{msg: fmt.Sprintf("assignment %d is not field=value; known fields: %s", i+1, knownUserFields())}
		}
		if seen[name] {
			return p, usageError{msg: fmt.Sprintf("field %s is set twice", name)}
		}
		seen[name] = true
		if prov, ok := strings.CutPrefix(name, thirdPartyPrefix); ok {
			if prov == "" {
				return p, usageError{msg: fmt.Sprintf("%s needs a provider, as in %swechatUnion=ID", name, thirdPartyPrefix)}
			}
			if p.ThirdParty == nil {
				p.ThirdParty = map[usercenter.Provider]*string{}
			}
			p.ThirdParty[usercenter.Provider(prov)] = &value
			continue
		}
		set, ok := userFields[name]
		if !ok {
			return p, usageError{msg: fmt.Sprintf("unknown field %q; known fields: %s", name, knownUserFields())}
		}
		if err := set(&p, value); err != nil {
			return p, usageError{msg: err.Error()}
		}
	}
	return p, nil
}

func userSet(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("user set", stdout, stderr)
	asJSON := fs.Bool("json", false, "print the updated user as one JSON object")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usageError{msg: "user set needs a UserId and at least one field=value; known fields: " + knownUserFields()}
	}
	patch, err := parseAssignments(pos[1:])
	if err != nil {
		return err
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		u, err := inst.svc.UpdateUser(ctx, operator(), pos[0], patch)
		if err != nil {
			return errMessage(err)
		}
		return writeResult(stdout, *asJSON, toUserJSON(u), func() error { return printUser(stdout, u) })
	})
}

func userDelete(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("user delete", stdout, stderr)
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{msg: "user delete needs one UserId"}
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		if err := inst.svc.DeleteUser(ctx, operator(), pos[0]); err != nil {
			return errMessage(err)
		}
		fmt.Fprintf(stdout, "Deleted user %s with their login tokens and third-party links; their audit events stay.\n", pos[0])
		return nil
	})
}

func userRevokeTokens(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("user revoke-tokens", stdout, stderr)
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{msg: "user revoke-tokens needs one UserId"}
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		n, err := inst.svc.RevokeUserTokens(ctx, operator(), pos[0])
		if err != nil {
			return errMessage(err)
		}
		fmt.Fprintf(stdout, "Revoked %d live login tokens of user %s; they must log in again.\n", n, pos[0])
		return nil
	})
}

// parseSince reads --since: an RFC 3339 time, or a date (midnight UTC).
func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError{msg: fmt.Sprintf("--since must be an RFC 3339 time (2026-01-02T15:04:05Z) or a date (2026-01-02), not %q", usercenter.ClipName(s, 40))}
}

func userList(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("user list", stdout, stderr)
	app := fs.Uint64("app", 0, "SdkAppId of the app (required)")
	status := fs.String("status", "", "only active or disabled users")
	since := fs.String("since", "", "only users created at or after this time (RFC 3339, or a date)")
	limit := fs.Int("limit", 50, fmt.Sprintf("how many users to list, 1 to %d", core.MaxPageSize))
	all := fs.Bool("all", false, "list every user (instead of --limit)")
	asJSON := fs.Bool("json", false, "print one JSON array")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{msg: fmt.Sprintf("user list takes no arguments, only flags (got %d)", len(pos))}
	}
	if *app == 0 {
		return usageError{msg: "user list needs --app"}
	}
	q := core.UserQuery{SdkAppID: *app, Newest: true, Limit: *limit}
	limitSet := false
	fs.Visit(func(f *flag.Flag) { limitSet = limitSet || f.Name == "limit" })
	if *all {
		if limitSet {
			return usageError{msg: "--all and --limit do not go together"}
		}
		q.Limit = core.MaxPageSize
	}
	switch *status {
	case "":
	case "active":
		q.Status = ptrTo(usercenter.UserActive)
	case "disabled":
		q.Status = ptrTo(usercenter.UserDisabled)
	default:
		return usageError{msg: fmt.Sprintf("--status must be active or disabled, not %q", usercenter.ClipName(*status, 16))}
	}
	if *since != "" {
		if q.CreatedSince, err = parseSince(*since); err != nil {
			return err
		}
	}
	return sf.withInstance(ctx, readOnly, func(inst *instance) error {
		var users []usercenter.User
		for {
			page, err := inst.svc.ListUsers(ctx, operator(), q)
			if err != nil {
				return errMessage(err)
			}
			users = append(users, page.Users...)
			if !*all || page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
		return writeResult(stdout, *asJSON, jsonList(users, toUserJSON), func() error {
			if len(users) == 0 {
				fmt.Fprintln(stdout, "No users.")
				return nil
			}
			tw := newTable(stdout)
			fmt.Fprintln(tw, "USERID\tORIGINID\tSTATUS\tNICKNAME\tCREATEDAT")
			for i := range users {
				u := &users[i]
				st := "active"
				if u.Status != usercenter.UserActive {
					st = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.OriginID, st, u.Nickname, formatTime(u.CreatedAt))
			}
			return tw.Flush()
		})
	})
}

func ptrTo[T any](v T) *T { return &v }

func userExportSubject(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("user export-subject", stdout, stderr)
	outPath := fs.String("o", "", "write to this file instead of standard output")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{msg: "user export-subject needs one UserId"}
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		x, err := inst.svc.ExportSubject(ctx, operator(), pos[0])
		if err != nil {
			return errMessage(err)
		}
		dst := stdout
		if *outPath != "" && *outPath != "-" {
			f, err := os.OpenFile(*outPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := writeJSON(f, toSubjectJSON(x)); err != nil {
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "wrote everything held about user %s to %s; each personal-data field shown is in the audit log\n", pos[0], *outPath)
			return nil
		}
		return writeJSON(dst, toSubjectJSON(x))
	})
}

// subjectJSON is the document of a data-subject access request: the same
// in the command line's export-subject and the REST API's subject-export.
type subjectJSON struct {
	User        userJSON    `json:"User"`
	AuditEvents []auditJSON `json:"AuditEvents"`
	LiveTokens  int         `json:"LiveTokens"`
	ExportedAt  string      `json:"ExportedAt"`
}

func toSubjectJSON(x *core.SubjectExport) subjectJSON {
	return subjectJSON{User: toUserJSON(&x.User), AuditEvents: jsonList(x.AuditEvents, toAuditJSON), LiveTokens: x.LiveTokens, ExportedAt: formatTime(x.ExportedAt)}
}

func userErase(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("user erase", stdout, stderr)
	yes := fs.Bool("yes", false, "confirm: the user cannot be recovered")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{msg: "user erase needs one UserId"}
	}
	if !*yes {
		return usageError{msg: "user erase cannot be undone: add --yes to confirm"}
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		n, err := inst.svc.EraseUser(ctx, operator(), pos[0])
		if err != nil {
			return errMessage(err)
		}
		fmt.Fprintf(stdout, "Erased user %s with their tokens and links; %d audit events about them now name %q instead.\n", pos[0], n, usercenter.ErasedUserID)
		return nil
	})
}
