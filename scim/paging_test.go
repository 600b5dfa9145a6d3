package scim_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
)

// addUsers creates n users in app through core, named prefix0…, and
// returns their ids.
func addUsers(t *testing.T, env *uctest.Env, app uint64, prefix string, n int) []string {
	t.Helper()
	var ids []string
	for len(ids) < n {
		batch := make([]core.UserPatch, min(n-len(ids), 100))
		for i := range batch {
			name := prefix + strconv.Itoa(len(ids)+i)
			batch[i] = core.UserPatch{OriginID: &name}
		}
		users, err := env.Svc.CreateUsers(bg, usercenter.Operator(), app, batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			ids = append(ids, u.ID)
		}
	}
	return ids
}

// page is one cursor page: the ids it lists and its nextCursor.
func (c *client) page(query url.Values) (ids []string, next string) {
	c.t.Helper()
	a := c.do("GET", "Users?"+query.Encode(), "").want(c.t, http.StatusOK)
	return a.ids(c.t), a.str("nextCursor")
}

// ids are the ids of a ListResponse's Resources, checking it is a cursor
// page: itemsPerPage right, no startIndex.
func (a *answer) ids(t *testing.T) []string {
	t.Helper()
	res, _ := a.body["Resources"].([]any)
	var ids []string
	for _, r := range res {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	if n, _ := a.body["itemsPerPage"].(float64); int(n) != len(ids) {
		t.Errorf("itemsPerPage %v for %d resources", a.body["itemsPerPage"], len(ids))
	}
	if _, ok := a.body["startIndex"]; ok {
		t.Errorf("a cursor page with a startIndex: %s", a.raw)
	}
	return ids
}

// walk pages through the users query selects by cursor, count a page,
// calling between after each page, and returns the ids in order.
func (c *client) walk(query url.Values, count int, between func()) []string {
	c.t.Helper()
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("count", strconv.Itoa(count))
	q.Set("cursor", "")
	var all []string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			c.t.Fatal("the walk does not end")
		}
		ids, next := c.page(q)
		if len(ids) > count {
			c.t.Fatalf("a page of %d users, count %d", len(ids), count)
		}
		all = append(all, ids...)
		if next == "" {
			return all
		}
		if between != nil {
			between()
		}
		q.Set("cursor", next)
	}
}

// A cursor walk lists every user once, in creation order, whatever the
// page size; users added while it runs are listed at most once, and none
// of those there throughout is lost.
func TestCursorWalk(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID)
	users := addUsers(t, env, env.App.SdkAppID, "w", 230)
	want := slices.Sorted(slices.Values(users)) // UserIds sort in creation order
	for _, count := range []int{1, 7, 100} {
		if got := c.walk(nil, count, nil); !slices.Equal(got, want) {
			t.Fatalf("count %d: %v\nwant %v", count, got, want)
		}
	}

	added := 0
	got := c.walk(nil, 9, func() {
		addUsers(t, env, env.App.SdkAppID, "added"+strconv.Itoa(added)+"-", 3)
		added++
	})
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
		if seen[id] > 1 {
			t.Fatalf("%s listed twice", id)
		}
	}
	for _, id := range users {
		if seen[id] != 1 {
			t.Fatalf("%s, there throughout, is missing", id)
		}
	}
	if len(got) <= len(users) || added == 0 {
		t.Fatalf("the walk listed %d users of %d and %d batches added later: the ones added after the walk's place belong in it", len(got), len(users), added)
	}

	// POST .search pages the same way, its cursor in the body.
	body := func(cursor string) string {
		b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "cursor": cursor, "count": 100})
		return string(b)
	}
	var searched []string
	for cursor := ""; ; {
		a := c.do("POST", "Users/.search", body(cursor)).want(t, http.StatusOK)
		searched = append(searched, a.ids(t)...)
		if cursor = a.str("nextCursor"); cursor == "" {
			break
		}
	}
	all := c.walk(nil, 100, nil)
	if !slices.Equal(searched, all) {
		t.Fatalf(".search walked %d users, GET %d", len(searched), len(all))
	}
}

// Filters on meta.lastModified select a window of the last change, walked
// in order of that change; with active they narrow each other. Attribute
// names and operators are case-insensitive.
func TestLastModifiedFilter(t *testing.T) {
	env := uctest.New(t)
	env.Clock.Freeze()
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite)
	at := func() string { return env.Clock.Now().UTC().Format(time.RFC3339Nano) }
	t0 := at()
	var ids []string
	for i := range 6 {
		env.Clock.Advance(time.Second)
		ids = append(ids, c.createUser(userBody("m"+strconv.Itoa(i), "")))
	}
	t3 := c.do("GET", "Users/"+ids[3], "").want(t, http.StatusOK).str("meta.lastModified")
	env.Clock.Advance(time.Second)
	// Disable user 1 through core: the change moves it to the end.
	disabled := usercenter.UserDisabled
	if _, err := env.Svc.UpdateUser(bg, usercenter.Operator(), ids[1], core.UserPatch{Status: &disabled}); err != nil {
		t.Fatal(err)
	}

	filter := func(f string) url.Values { return url.Values{"filter": {f}} }
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`meta.lastModified gt "` + t0 + `"`, []string{ids[0], ids[2], ids[3], ids[4], ids[5], ids[1]}},
		{`meta.lastModified gt "` + t3 + `"`, []string{ids[4], ids[5], ids[1]}},
		{`META.lastmodified GE "` + t3 + `"`, []string{ids[3], ids[4], ids[5], ids[1]}},
		{`meta.lastModified lt "` + t3 + `"`, []string{ids[0], ids[2]}},
		{`meta.lastModified le "` + t3 + `"`, []string{ids[0], ids[2], ids[3]}},
		{`meta.lastModified ge "` + t0 + `" and meta.lastModified lt "` + t3 + `" and meta.lastModified gt "` + t0 + `"`, []string{ids[0], ids[2]}},
		{`meta.lastModified gt "` + t3 + `" and active eq true`, []string{ids[4], ids[5]}},
		{`active eq false and urn:ietf:params:scim:schemas:core:2.0:User:meta.lastModified gt "` + t0 + `"`, []string{ids[1]}},
		{`active eq false`, []string{ids[1]}},
		{`active eq true`, []string{ids[0], ids[2], ids[3], ids[4], ids[5]}},
		{`meta.lastModified gt "` + t3 + `" and meta.lastModified lt "` + t3 + `"`, nil},
		{`meta.lastModified gt "2999-01-01T00:00:00Z"`, nil},
	} {
		for _, count := range []int{1, 2, 100} {
			if got := c.walk(filter(tc.filter), count, nil); !slices.Equal(got, tc.want) {
				t.Errorf("%s, %d a page: %v, want %v", tc.filter, count, got, tc.want)
			}
		}
	}
	// With an exact lookup, lastModified narrows what it finds.
	a := c.do("GET", "Users?"+filter(`userName eq "m4" and meta.lastModified lt "`+t3+`"`).Encode(), "").want(t, http.StatusOK)
	if a.body["totalResults"] != 0.0 {
		t.Errorf("userName m4 changed before t3: %s", a.raw)
	}
	a = c.do("GET", "Users?"+filter(`userName eq "m4" and meta.lastModified gt "`+t3+`"`).Encode(), "").want(t, http.StatusOK)
	if a.body["totalResults"] != 1.0 {
		t.Errorf("userName m4 changed after t3: %s", a.raw)
	}
	// Offset paging does not serve these filters, and says how to page.
	a = c.do("GET", "Users?"+filter(`meta.lastModified gt "`+t0+`"`).Encode(), "")
	a.wantError(t, http.StatusBadRequest, "invalidValue")
	if !strings.Contains(a.str("detail"), "cursor") {
		t.Errorf("the refusal does not point to cursors: %s", a.raw)
	}
	for _, bad := range []string{`meta.lastModified gt "yesterday"`, `meta.lastModified gt "2026-13-01T00:00:00Z"`, `meta.lastModified gt 5`, `meta.lastModified gt true`} {
		c.do("GET", "Users?"+filter(bad).Encode()+"&cursor=", "").wantError(t, http.StatusBadRequest, "invalidValue")
	}
	for _, bad := range []string{`meta.lastModified eq "` + t0 + `"`, `meta.lastModified co "2026"`, `meta.created gt "` + t0 + `"`, `meta.lastModified gt "` + t0 + `" or active eq true`} {
		c.do("GET", "Users?"+filter(bad).Encode()+"&cursor=", "").wantError(t, http.StatusBadRequest, "invalidFilter")
	}
}

// A cursor is refused, with RFC 9865's scimType, when it was altered or
// made up, taken to another app or another filter, or has expired;
// startIndex past 10,000 is refused with a pointer to cursors.
func TestCursorRefusals(t *testing.T) {
	env := uctest.New(t)
	env.Clock.Freeze()
	appB, _ := env.NewApp(t, "b", 1000)
	a := newClient(t, env, env.App.SdkAppID)
	b := newClient(t, env, appB.SdkAppID)
	addUsers(t, env, env.App.SdkAppID, "a", 5)
	addUsers(t, env, appB.SdkAppID, "b", 5)
	_, next := a.page(url.Values{"cursor": {""}, "count": {"2"}})
	if next == "" {
		t.Fatal("no nextCursor after 2 of 5 users")
	}
	if ids, _ := a.page(url.Values{"cursor": {next}, "count": {"2"}}); len(ids) != 2 {
		t.Fatalf("the cursor's page: %v", ids)
	}

	raw, err := base64.RawURLEncoding.DecodeString(next)
	if err != nil {
		t.Fatalf("the cursor is not base64url: %v", err)
	}
	flipped := func(i int) string {
		b := slices.Clone(raw)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for name, cursor := range map[string]string{
		"its last byte altered":  flipped(len(raw) - 1),
		"its time altered":       flipped(8),
		"its MAC altered":        flipped(12),
		"truncated":              next[:len(next)-3],
		"not base64":             "!!!",
		"made up":                base64.RawURLEncoding.EncodeToString([]byte("3ALKRL6KFJCNBuhhoMqGRyQKn4m")),
		"far too long":           strings.Repeat("A", 2000),
		"another filter's":       "",
		"on app B":               "",
		"of a lookup, continued": "",
	} {
		t.Run(name, func(t *testing.T) {
			switch name {
			case "another filter's":
				a.do("GET", "Users?"+url.Values{"cursor": {next}, "filter": {"active eq true"}}.Encode(), "").wantError(t, http.StatusBadRequest, "invalidCursor")
			case "on app B":
				b.do("GET", "Users?"+url.Values{"cursor": {next}}.Encode(), "").wantError(t, http.StatusBadRequest, "invalidCursor")
			case "of a lookup, continued":
				a.do("GET", "Users?"+url.Values{"cursor": {next}, "filter": {`userName eq "a1"`}}.Encode(), "").wantError(t, http.StatusBadRequest, "invalidCursor")
			default:
				a.do("GET", "Users?"+url.Values{"cursor": {cursor}}.Encode(), "").wantError(t, http.StatusBadRequest, "invalidCursor")
			}
		})
	}
	// The same filter spelled otherwise is the same filter.
	_, activeNext := a.page(url.Values{"cursor": {""}, "count": {"2"}, "filter": {"active eq true"}})
	if ids, _ := a.page(url.Values{"cursor": {activeNext}, "count": {"2"}, "filter": {"ACTIVE Eq true"}}); len(ids) != 2 {
		t.Fatalf("the cursor with the filter respelled: %v", ids)
	}

	env.Clock.Advance(24*time.Hour + time.Second)
	a.do("GET", "Users?"+url.Values{"cursor": {next}}.Encode(), "").wantError(t, http.StatusBadRequest, "expiredCursor")
	// Each page hands out a fresh cursor.
	_, next = a.page(url.Values{"cursor": {""}, "count": {"2"}})
	env.Clock.Advance(23 * time.Hour)
	a.do("GET", "Users?"+url.Values{"cursor": {next}}.Encode(), "").want(t, http.StatusOK)

	a.do("GET", "Users?startIndex=2&cursor=", "").wantError(t, http.StatusBadRequest, "invalidValue")
	a.do("POST", "Users/.search", `{"startIndex": 2, "cursor": ""}`).wantError(t, http.StatusBadRequest, "invalidValue")
	a.do("POST", "Users/.search", `{"cursor": 5}`).wantError(t, http.StatusBadRequest, "invalidSyntax")
	far := a.do("GET", "Users?startIndex=10001", "")
	far.wantError(t, http.StatusBadRequest, "invalidValue")
	if !strings.Contains(far.str("detail"), "cursor") {
		t.Errorf("startIndex past 10,000 does not point to cursors: %s", far.raw)
	}
	a.do("GET", "Users?startIndex=10000", "").want(t, http.StatusOK)
	// Count 0 answers no users and the same place.
	zero := a.do("GET", "Users?cursor=&count=0", "").want(t, http.StatusOK)
	if ids := zero.ids(t); len(ids) != 0 || zero.str("nextCursor") == "" {
		t.Fatalf("count 0: %s", zero.raw)
	}
	if ids, _ := a.page(url.Values{"cursor": {zero.str("nextCursor")}, "count": {"5"}}); len(ids) != 5 {
		t.Fatalf("after count 0, the walk starts at the start: %v", ids)
	}
}

// ServiceProviderConfig describes the paging, as RFC 9865 has it.
func TestPaginationConfig(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID)
	a := c.do("GET", "ServiceProviderConfig", "").want(t, http.StatusOK)
	p, _ := a.body["pagination"].(map[string]any)
	want := map[string]any{"cursor": true, "index": true, "defaultPaginationMethod": "index", "defaultPageSize": 100.0, "maxPageSize": 100.0, "cursorTimeout": 86400.0}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("pagination.%s = %v, want %v: %s", k, p[k], v, a.raw)
		}
	}
}
