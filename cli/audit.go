package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
)

// auditJSON is the machine-readable form of an audit event, with the
// names of the REST API's (GET /v1/audit), so that one parser reads both.
type auditJSON struct {
	Id        int64  `json:"id"`
	At        string `json:"at"`
	SdkAppId  uint64 `json:"sdkAppId"`
	UserId    string `json:"userId"`
	Action    string `json:"action"`
	Field     string `json:"field"`
	Actor     string `json:"actor"`
	RequestId string `json:"requestId"`
	Reason    string `json:"reason"`
}

func toAuditJSON(e *usercenter.AuditEvent) auditJSON {
	return auditJSON{
		Id: e.ID, At: e.At.UTC().Format(time.RFC3339Nano), SdkAppId: e.SdkAppID, UserId: e.UserID,
		Action: string(e.Action), Field: e.Field, Actor: e.Actor, RequestId: e.RequestID,
		Reason: e.Reason,
	}
}

// timeFlag is an optional RFC 3339 time.
type timeFlag struct{ t *time.Time }

func (f timeFlag) String() string {
	if f.t == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f timeFlag) Set(s string) error {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("%q is not an RFC 3339 time such as 2024-05-01T00:00:00Z", s)
	}
	*f.t = t
	return nil
}

func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("audit", stdout, stderr)
	var f usercenter.AuditFilter
	fs.Uint64Var(&f.SdkAppID, "app", 0, "only events of this SdkAppId")
	fs.StringVar(&f.UserID, "user", "", "only events of this UserId")
	fs.StringVar(&f.Field, "field", "", "only events of this field, e.g. phone or thirdPartyIds.qq")
	action := fs.String("action", "", "only events of this action: "+auditActionNames())
	fs.StringVar(&f.Actor, "actor", "", `only events by this actor: "operator", "cli:<OS user>", "key:<SecretId>" or "facade:<name>"`)
	fs.Var(timeFlag{&f.Since}, "since", "only events at or after this RFC 3339 time")
	fs.Var(timeFlag{&f.Until}, "until", "only events before this RFC 3339 time")
	fs.IntVar(&f.Limit, "limit", core.DefaultListLimit, fmt.Sprintf("at most this many events, newest first (1 to %d)", core.MaxListLimit))
	oldestFirst := fs.Bool("oldest-first", false, "list the oldest events first, in ID order")
	all := fs.Bool("all", false, "every matching event, read page by page (not with --limit)")
	asJSON := fs.Bool("json", false, "print one JSON array")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{msg: fmt.Sprintf("audit takes no arguments, only flags (got %q)", pos[0])}
	}
	if *action != "" {
		f.Action = usercenter.AuditAction(*action)
		if !f.Action.Valid() {
			return usageError{msg: fmt.Sprintf("--action: unknown action %q (known: %s)", *action, auditActionNames())}
		}
	}
	f.NewestFirst = !*oldestFirst
	if *all {
		limitSet := false
		fs.Visit(func(fl *flag.Flag) { limitSet = limitSet || fl.Name == "limit" })
		if limitSet {
			return usageError{msg: "--all and --limit exclude each other"}
		}
		f.Limit = core.MaxListLimit
	}
	if f.Limit < 1 || f.Limit > core.MaxListLimit {
		return usageError{msg: fmt.Sprintf("--limit must be between 1 and %d", core.MaxListLimit)}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return usageError{msg: "--until must not be before --since"}
	}

	return sf.withInstance(ctx, readOnly, func(inst *instance) error {
		actor := operator()
		var events []usercenter.AuditEvent
		for {
			page, next, err := inst.svc.AuditPage(ctx, actor, f)
			if err != nil {
				return errMessage(err)
			}
			events = append(events, page...)
			if next == 0 {
				break
			}
			if !*all {
				// Tell that there are more, on stderr so stdout stays one document.
				fmt.Fprintf(stderr, "usercenter: showing the first %d matching events; more match: use --all, or narrow with --since and --until\n", len(events))
				break
			}
			if f.NewestFirst {
				f.BeforeID = next
			} else {
				f.AfterID = next
			}
		}

		return writeResult(stdout, *asJSON, jsonList(events, toAuditJSON), func() error {
			if len(events) == 0 {
				fmt.Fprintln(stdout, "No audit events match.")
				return nil
			}
			tw := newTable(stdout)
			fmt.Fprintln(tw, "ID\tAT\tSDKAPPID\tUSERID\tACTION\tFIELD\tACTOR\tREQUESTID\tREASON")
			for i := range events {
				e := toAuditJSON(&events[i])
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Id, events[i].At.UTC().Format(time.RFC3339),
					strconv.FormatUint(e.SdkAppId, 10), dash(e.UserId), e.Action, dash(e.Field), e.Actor, dash(e.RequestId), dash(e.Reason))
			}
			return tw.Flush()
		})
	})
}

// auditActionNames lists every audit action: "reveal, deliver, …".
func auditActionNames() string {
	known := make([]string, len(usercenter.AuditActions))
	for i, a := range usercenter.AuditActions {
		known[i] = string(a)
	}
	return strings.Join(known, ", ")
}

// dash stands in for an empty table cell.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
