package restapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/obs"
)

// webhookJSON is an endpoint as this API shows it.
type webhookJSON struct {
	ID            string   `json:"id"`
	SdkAppID      uint64   `json:"sdkAppId"`
	URL           string   `json:"url"`
	Events        []string `json:"events"`
	Secret        string   `json:"secret,omitempty"` // only in the answer to its creation
	Status        string   `json:"status"`           // ok, retrying or failed
	Cursor        int64    `json:"cursor"`
	Attempts      int      `json:"attempts"`
	NextAttemptAt string   `json:"nextAttemptAt,omitempty"`
	FailedAt      string   `json:"failedAt,omitempty"`
	FailedEventID int64    `json:"failedEventId,omitempty"`
	CreatedAt     string   `json:"createdAt"`
	UpdatedAt     string   `json:"updatedAt"`
}

func optTimeJSON(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return timeJSON(t)
}

func toWebhookJSON(w *usercenter.Webhook) webhookJSON {
	status := "ok"
	switch {
	case !w.FailedAt.IsZero():
		status = "failed"
	case w.Attempts > 0:
		status = "retrying"
	}
	return webhookJSON{
		ID: w.ID, SdkAppID: w.SdkAppID, URL: w.URL, Events: w.Events, Secret: w.Secret, Status: status,
		Cursor: w.Cursor, Attempts: w.Attempts, NextAttemptAt: optTimeJSON(w.NextAttemptAt),
		FailedAt: optTimeJSON(w.FailedAt), FailedEventID: w.FailedEventID,
		CreatedAt: timeJSON(w.CreatedAt), UpdatedAt: timeJSON(w.UpdatedAt),
	}
}

// deliveryJSON is one entry of an endpoint's delivery log.
type deliveryJSON struct {
	ID         int64  `json:"id"`
	EventID    int64  `json:"eventId"`
	EventType  string `json:"eventType"`
	Attempt    int    `json:"attempt"`
	At         string `json:"at"`
	StatusCode int    `json:"statusCode"`
	LatencyMs  int64  `json:"latencyMs"`
	Result     string `json:"result"`
	Error      string `json:"error,omitempty"`
}

func toDeliveryJSON(d *usercenter.WebhookDelivery) deliveryJSON {
	return deliveryJSON{
		ID: d.ID, EventID: d.EventID, EventType: string(d.EventType), Attempt: d.Attempt,
		At: d.At.UTC().Format(time.RFC3339Nano), StatusCode: d.StatusCode, LatencyMs: d.Latency.Milliseconds(),
		Result: string(d.Result), Error: d.Error,
	}
}

// webhookBody is what a POST, PATCH or :replay body may hold.
type webhookBody struct {
	url    *string
	events []string
	since  time.Time
}

// decodeWebhookBody reads a body whose members are among allowed.
func decodeWebhookBody(w http.ResponseWriter, r *http.Request, allowed ...string) (webhookBody, error) {
	var b webhookBody
	if err := checkContentType(r); err != nil {
		return b, err
	}
	raw, err := readBody(w, r)
	if err != nil {
		return b, err
	}
	members, err := parseObject(raw)
	if err != nil {
		return b, err
	}
	for _, m := range members {
		known := false
		for _, a := range allowed {
			known = known || a == m.name
		}
		if !known {
			return b, &problem{Code: "unknown_field", Field: clipName(m.name), Detail: "unknown field " + quote(m.name)}
		}
		switch m.name {
		case "url":
			s, err := nullableString(m.name, m.raw)
			if err != nil {
				return b, err
			}
			if s == nil {
				return b, &problem{Code: "invalid_type", Field: m.name, Detail: "url must be a string"}
			}
			b.url = s
		case "events":
			if err := json.Unmarshal(m.raw, &b.events); err != nil || b.events == nil {
				return b, &problem{Code: "invalid_type", Field: m.name, Detail: "events must be an array of strings"}
			}
		case "since":
			s, err := nullableString(m.name, m.raw)
			if err != nil {
				return b, err
			}
			if s == nil {
				return b, &problem{Code: "invalid_type", Field: m.name, Detail: "since must be a string"}
			}
			if b.since, err = time.Parse(time.RFC3339Nano, *s); err != nil {
				return b, invalidParam("since", "since must be an RFC 3339 time such as 2026-12-01T00:00:00Z")
			}
		}
	}
	return b, nil
}

// webhookPath reads the app and, when the path has one, the endpoint.
func webhookPath(r *http.Request) (uint64, string, error) {
	app, err := parseAppID(r.PathValue("sdkAppId"))
	return app, r.PathValue("webhookId"), err
}

func (a *api) handleCreateWebhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app, _, err := webhookPath(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		b, err := decodeWebhookBody(w, r, "url", "events")
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if b.url == nil || b.events == nil {
			a.fail(w, r, &problem{Code: "invalid_field", Field: map[bool]string{true: "url", false: "events"}[b.url == nil], Detail: "url and events are required"})
			return
		}
		hook, err := a.svc.CreateWebhook(r.Context(), actorFrom(r.Context()), core.NewWebhook{SdkAppID: app, URL: *b.url, Events: b.events})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		w.Header().Set("Location", "/v1/apps/"+strconv.FormatUint(app, 10)+"/webhooks/"+url.PathEscape(hook.ID))
		respond(w, r, http.StatusCreated, toWebhookJSON(hook))
	})
}

func (a *api) handleListWebhooks() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app, _, err := webhookPath(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		hooks, err := a.svc.Webhooks(r.Context(), actorFrom(r.Context()), app)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		out := struct {
			Webhooks []webhookJSON `json:"webhooks"`
		}{make([]webhookJSON, len(hooks))}
		for i := range hooks {
			out.Webhooks[i] = toWebhookJSON(&hooks[i])
		}
		respond(w, r, http.StatusOK, out)
	})
}

// onWebhook serves a route of one endpoint: it reads the app and the
// endpoint's ID from the path for serve, and answers serve's error, if
// any, in the API's format.
func (a *api) onWebhook(serve func(w http.ResponseWriter, r *http.Request, app uint64, id string) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app, id, err := webhookPath(r)
		if err == nil {
			err = serve(w, r, app, id)
		}
		if err != nil {
			a.fail(w, r, err)
		}
	})
}

func (a *api) handleGetWebhook() http.Handler {
	return a.onWebhook(func(w http.ResponseWriter, r *http.Request, app uint64, id string) error {
		hook, err := a.svc.Webhook(r.Context(), actorFrom(r.Context()), app, id)
		if err != nil {
			return err
		}
		respond(w, r, http.StatusOK, toWebhookJSON(hook))
		return nil
	})
}

func (a *api) handleUpdateWebhook() http.Handler {
	return a.onWebhook(func(w http.ResponseWriter, r *http.Request, app uint64, id string) error {
		b, err := decodeWebhookBody(w, r, "url", "events")
		if err != nil {
			return err
		}
		hook, err := a.svc.UpdateWebhook(r.Context(), actorFrom(r.Context()), app, id, core.WebhookPatch{URL: b.url, Events: b.events})
		if err != nil {
			return err
		}
		respond(w, r, http.StatusOK, toWebhookJSON(hook))
		return nil
	})
}

func (a *api) handleDeleteWebhook() http.Handler {
	return a.onWebhook(func(w http.ResponseWriter, r *http.Request, app uint64, id string) error {
		if err := a.svc.DeleteWebhook(r.Context(), actorFrom(r.Context()), app, id); err != nil {
			return err
		}
		obs.FromContext(r.Context()).Result = "ok"
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (a *api) handleTestWebhook() http.Handler {
	return a.onWebhook(func(w http.ResponseWriter, r *http.Request, app uint64, id string) error {
		d, err := a.svc.TestWebhook(r.Context(), actorFrom(r.Context()), app, id)
		if err != nil {
			return err
		}
		respond(w, r, http.StatusOK, toDeliveryJSON(d))
		return nil
	})
}

func (a *api) handleReplayWebhook() http.Handler {
	return a.onWebhook(func(w http.ResponseWriter, r *http.Request, app uint64, id string) error {
		b, err := decodeWebhookBody(w, r, "since")
		if err != nil {
			return err
		}
		if b.since.IsZero() {
			return invalidParam("since", "since is required: the RFC 3339 time to redeliver from")
		}
		hook, err := a.svc.ReplayWebhook(r.Context(), actorFrom(r.Context()), app, id, b.since)
		if err != nil {
			return err
		}
		respond(w, r, http.StatusOK, toWebhookJSON(hook))
		return nil
	})
}

func (a *api) handleListDeliveries() http.Handler {
	return a.onWebhook(func(w http.ResponseWriter, r *http.Request, app uint64, id string) error {
		q, err := parseQuery(r.URL.RawQuery)
		if err != nil {
			return err
		}
		limit := core.DefaultListLimit
		if q.Has("limit") {
			s, err := single(q, "limit")
			n, convErr := strconv.Atoi(s)
			if err != nil || convErr != nil || n < 1 || n > core.DeliveryLogKeep || s[0] == '+' {
				return invalidParam("limit", "limit must be an integer between 1 and "+strconv.Itoa(core.DeliveryLogKeep))
			}
			limit = n
		}
		log, err := a.svc.WebhookDeliveries(r.Context(), actorFrom(r.Context()), app, id, limit)
		if err != nil {
			return err
		}
		out := struct {
			Deliveries []deliveryJSON `json:"deliveries"`
		}{make([]deliveryJSON, len(log))}
		for i := range log {
			out.Deliveries[i] = toDeliveryJSON(&log[i])
		}
		respond(w, r, http.StatusOK, out)
		return nil
	})
}
