package console

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
)

// The audit trail: newest first, filtered by app, user, action, actor,
// field and time, a page at a time (keyset: before the last ID shown),
// and the filtered events as CSV, streamed page by page.

// auditPageSize is how many events a page lists.
const auditPageSize = 50

// timeInput is the format of <input type="datetime-local">, read as UTC.
const timeInput = "2006-01-02T15:04"

type auditData struct {
	page
	Apps    []usercenter.App
	Actions []usercenter.AuditAction
	Filter  auditForm
	Events  []usercenter.AuditEvent
	Next    string // the URL of the next (older) page
	CSV     string // the URL of the CSV of the filtered events
}

// auditForm is the filter as the form has it, to fill the form again.
type auditForm struct {
	App, User, Action, Actor, Field, Since, Until string
}

// auditFilter reads the filter of the page's query.
func auditFilter(q url.Values) (usercenter.AuditFilter, auditForm, error) {
	form := auditForm{App: q.Get("app"), User: strings.TrimSpace(q.Get("user")), Action: q.Get("action"),
		Actor: strings.TrimSpace(q.Get("actor")), Field: strings.TrimSpace(q.Get("field")), Since: q.Get("since"), Until: q.Get("until")}
	f := usercenter.AuditFilter{NewestFirst: true, UserID: form.User, Actor: form.Actor, Field: form.Field, Action: usercenter.AuditAction(form.Action)}
	var err error
	if form.App != "" {
		if f.SdkAppID, err = appID(form.App); err != nil {
			return f, form, err
		}
	}
	if f.Action != "" && !f.Action.Valid() {
		return f, form, usercenter.Invalid(usercenter.FieldAuditAction, "is not an audit action")
	}
	for _, t := range []struct {
		v     string
		dst   *time.Time
		field usercenter.Field
	}{{form.Since, &f.Since, usercenter.FieldSince}, {form.Until, &f.Until, usercenter.FieldUntil}} {
		if t.v == "" {
			continue
		}
		if *t.dst, err = time.Parse(timeInput, t.v); err != nil {
			return f, form, usercenter.Invalid(t.field, "must be a date and time such as 2026-01-31T08:00 (UTC)")
		}
	}
	if v := q.Get("before"); v != "" {
		if f.BeforeID, err = strconv.ParseInt(v, 10, 64); err != nil || f.BeforeID <= 0 {
			return f, form, usercenter.Invalid(usercenter.FieldCursor, "is not a position in the audit trail")
		}
	}
	return f, form, nil
}

func (form auditForm) values() url.Values {
	v := url.Values{}
	for name, val := range map[string]string{"app": form.App, "user": form.User, "action": form.Action, "actor": form.Actor,
		"field": form.Field, "since": form.Since, "until": form.Until} {
		if val != "" {
			v.Set(name, val)
		}
	}
	return v
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	ctx, actor := r.Context(), actorFrom(r.Context())
	apps, err := s.svc.VisibleApps(ctx, actor)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	f, form, err := auditFilter(r.URL.Query())
	d := auditData{page: s.page(r), Apps: apps, Actions: usercenter.AuditActions, Filter: form}
	var next int64
	if err == nil {
		f.Limit = auditPageSize
		if d.Events, next, err = s.svc.AuditPage(ctx, actor, f); err == nil {
			err = s.withAccountNames(r, &d.page)
		}
	}
	if err != nil {
		if code := usercenter.ErrorCode(err); code != usercenter.EInvalid && code != usercenter.EForbidden {
			s.failErr(w, r, err)
			return
		}
		d.failed(err)
	}
	v := form.values()
	d.CSV = "/console/audit.csv"
	if len(v) > 0 {
		d.CSV += "?" + v.Encode()
	}
	if next != 0 {
		v.Set("before", strconv.FormatInt(next, 10))
		d.Next = "/console/audit?" + v.Encode()
	}
	s.show(w, r, d.page, "audit", d)
}

// auditCSVHeader names the CSV's columns, as the REST API names the
// events' members.
var auditCSVHeader = []string{"id", "at", "sdkAppId", "userId", "action", "field", "actor", "requestId", "reason"}

// auditCSV streams every event the filter selects, newest first, a page of
// core.MaxListLimit at a time, so that a long trail never sits in memory.
// An error after the first row can only end the download early: the
// status is sent.
func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request) {
	ctx, actor := r.Context(), actorFrom(r.Context())
	f, _, err := auditFilter(r.URL.Query())
	f.Limit = core.MaxListLimit
	var events []usercenter.AuditEvent
	var next int64
	if err == nil {
		events, next, err = s.svc.AuditPage(ctx, actor, f)
	}
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="audit.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	out := csv.NewWriter(w)
	_ = out.Write(auditCSVHeader)
	for {
		for i := range events {
			e := &events[i]
			_ = out.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), strconv.FormatUint(e.SdkAppID, 10),
				cell(e.UserID), string(e.Action), cell(e.Field), cell(e.Actor), cell(e.RequestID), cell(e.Reason)})
		}
		out.Flush()
		if out.Error() != nil || next == 0 {
			return
		}
		f.BeforeID = next
		if events, next, err = s.svc.AuditPage(ctx, actor, f); err != nil {
			return // the rows sent stand; the client sees a short file
		}
	}
}

// cell keeps a spreadsheet from reading a value as a formula: text an
// operator typed (a reason) or an ID from a client (a RequestId, an
// OriginId in a field) could start with one.
func cell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
