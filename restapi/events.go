package restapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"usercenter"
	"usercenter/core"
)

// eventParams are the query parameters of GET /v1/apps/{sdkAppId}/events.
var eventParams = []string{"after", "limit", "type"}

// eventJSON is one event of the outbox; the command line's
// "usercenter events tail --json" prints the same members.
type eventJSON struct {
	ID       int64                `json:"id"`
	Type     string               `json:"type"`
	SdkAppID uint64               `json:"sdkAppId"`
	At       string               `json:"at"`
	Actor    string               `json:"actor"`
	Data     usercenter.EventData `json:"data"`
}

// eventList is the answer of GET /v1/apps/{sdkAppId}/events.
type eventList struct {
	Events []eventJSON `json:"events"`
	// Next is the after of the following request: the last event's ID,
	// or the request's own after when no event came.
	Next int64 `json:"next"`
	More bool  `json:"more"`
}

func toEventJSON(e *usercenter.Event) eventJSON {
	return eventJSON{ID: e.ID, Type: string(e.Type), SdkAppID: e.SdkAppID, At: timeJSON(e.At), Actor: e.Actor, Data: e.Data}
}

func (a *api) handleListEvents() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		appID, err := parseAppID(r.PathValue("sdkAppId"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		q, err := parseEventQuery(r.URL.Query())
		if err != nil {
			a.fail(w, r, err)
			return
		}
		q.SdkAppID = appID
		page, err := a.svc.Events(r.Context(), actorFrom(r.Context()), q)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		out := eventList{Events: make([]eventJSON, len(page.Events)), Next: page.Next, More: page.More}
		for i := range page.Events {
			out.Events[i] = toEventJSON(&page.Events[i])
		}
		respond(w, r, http.StatusOK, out)
	})
}

// parseEventQuery reads after, limit and type. Each is given at most
// once; type lists types or prefixes ("user.*") separated by commas.
func parseEventQuery(q url.Values) (core.EventQuery, error) {
	var out core.EventQuery
	s, err := single(q, "after")
	if err != nil {
		return out, err
	}
	if q.Has("after") {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
			return out, invalidParam("after", "after must be an event id, an integer of 0 or more in decimal (0 or left out: from the oldest event kept)")
		}
		out.After = n
	}
	if s, err = single(q, "limit"); err != nil {
		return out, err
	}
	if q.Has("limit") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > core.MaxEventLimit || strconv.Itoa(n) != s {
			return out, invalidParam("limit", "limit must be an integer between 1 and "+strconv.Itoa(core.MaxEventLimit))
		}
		out.Limit = n
	}
	if s, err = single(q, "type"); err != nil {
		return out, err
	}
	if q.Has("type") {
		if out.Types, err = parseEventTypes(s); err != nil {
			return out, err
		}
	}
	return out, nil
}

// parseEventTypes reads a comma-separated list of event types and
// prefixes such as user.*.
func parseEventTypes(s string) ([]usercenter.EventType, error) {
	var out []usercenter.EventType
	for _, pattern := range strings.Split(s, ",") {
		pattern = strings.TrimSpace(pattern)
		types := usercenter.EventTypesMatching(pattern)
		if types == nil {
			return nil, invalidParam("type", "type lists event types or prefixes such as user.*, separated by commas; "+quote(pattern)+" names none")
		}
		for _, t := range types {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// tokenRevocation is the answer of POST /v1/users/{userId}:revoke-tokens.
type tokenRevocation struct {
	RevokedTokens int `json:"revokedTokens"`
}

func (a *api) handleRevokeUserTokens() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := a.svc.RevokeUserTokens(r.Context(), actorFrom(r.Context()), r.PathValue("userId"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		respond(w, r, http.StatusOK, tokenRevocation{RevokedTokens: n})
	})
}
