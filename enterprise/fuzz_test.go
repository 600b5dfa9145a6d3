package enterprise

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"usercenter"
	"usercenter/core"
	"usercenter/obs"
	"usercenter/uctest/svctest"
)

// Fuzz targets for the enterprise API.
//
//	go test -run='^$' -fuzz=FuzzParams         -fuzztime=90s ./enterprise/
//	go test -run='^$' -fuzz=FuzzAccessKeyLogin -fuzztime=90s ./enterprise/
//	go test -run='^$' -fuzz=FuzzHandler        -fuzztime=90s ./enterprise/
//	go test -run='^$' -fuzz=FuzzLoginRetry     -fuzztime=60s ./enterprise/
//
// FuzzParams checks the parameter reader and paging alone against
// oracles written here from docs/enterprise.md: a query (and a POST's form
// body) is accepted exactly when it is well formed, at most 8 KiB, names
// no parameter twice and holds only UTF-8 without control characters;
// page and pageSize are plain decimal numbers, page from 1 to 2^31-1,
// pageSize at least 1 and served as at most 100; the PageInfo of any page
// obeys PageHelper's arithmetic as the guide tabulates it.
//
// FuzzAccessKeyLogin checks the AccessKey login of core (the username
// parser, the password, the key, the clock window) against the guide:
// every outcome is the documented code, and a well-formed username of a
// live key, correctly signed within the window, always logs in.
//
// FuzzHandler sends arbitrary requests through the whole /v2 handler of a
// real instance (SQLite in a temporary directory, the service, this
// package's handler behind the observability middleware, mounted at /v2/
// as the server mounts it). usercenter/uctest cannot be used here: it
// imports usercenter/server, which imports this package, so an internal
// test importing it would be an import cycle (tcapi/fuzz_test.go builds
// its instance the same way). Whatever the bytes, the answer is HTTP 200
// with the envelope: a JSON object with exactly the documented members, a
// code of the table with its msg, never 50000; every success is one the
// caller is entitled to (a live token, the permission, its own apps), with
// personal data masked unless the key has pii.read, and PageInfo
// arithmetic as documented.
//
// FuzzLoginRetry sends a login twice: the guide says only an accepted
// login is remembered and refused when replayed, so a refused login must
// be refused the same way the second time.
//
// Placeholders in the fuzzed strings stand for what the fuzzer cannot
// guess: $AK, $AO and $AR the AccessKeys of the first app's key, the other
// app's key and a revoked key; $NOW and $OLD the time now and six minutes
// ago in epoch milliseconds; $SIG the signature of the request's username
// with its key's AccessSecret; $TOK a live access token with its prefix;
// $U and $V users of the first and the other app; $D and $E their user
// domains.

// ---- Oracles ----

// fzValidText is the guide's rule for a parameter: UTF-8 without control
// characters.
func fzValidText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// fzDecimal reads a plain decimal number: ASCII digits only, no sign.
// big reports a number beyond int64.
func fzDecimal(s string) (n int64, big, ok bool) {
	if s == "" {
		return 0, false, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, true, true
	}
	return n, false, true
}

// fzPaging is the guide's paging: page and size served, or ok false for
// 50005. A number of more than 64 digits may be refused (maybe is true).
func fzPaging(q url.Values) (page, size int, ok, maybe bool) {
	page, size = 1, 10
	if vs, has := q["page"]; has {
		n, big, isNum := fzDecimal(vs[0])
		maybe = maybe || len(vs[0]) > 64
		if !isNum || big || n < 1 || n > math.MaxInt32 {
			return 0, 0, false, maybe
		}
		page = int(n)
	}
	if vs, has := q["pageSize"]; has {
		n, big, isNum := fzDecimal(vs[0])
		maybe = maybe || len(vs[0]) > 64
		if !isNum || (!big && n < 1) {
			return 0, 0, false, maybe
		}
		size = 100
		if !big && n < 100 {
			size = int(n)
		}
	}
	return page, size, true, maybe
}

// fzPage is a PageInfo as a client decodes it.
type fzPage struct {
	EndRow            int64             `json:"endRow"`
	HasNextPage       bool              `json:"hasNextPage"`
	HasPreviousPage   bool              `json:"hasPreviousPage"`
	IsFirstPage       bool              `json:"isFirstPage"`
	IsLastPage        bool              `json:"isLastPage"`
	List              []json.RawMessage `json:"list"`
	NavigateFirstPage int               `json:"navigateFirstPage"`
	NavigateLastPage  int               `json:"navigateLastPage"`
	NavigatePages     int               `json:"navigatePages"`
	NavigatepageNums  []int             `json:"navigatepageNums"`
	NextPage          int               `json:"nextPage"`
	PageNum           int               `json:"pageNum"`
	PageSize          int               `json:"pageSize"`
	Pages             int               `json:"pages"`
	PrePage           int               `json:"prePage"`
	Size              int               `json:"size"`
	StartRow          int64             `json:"startRow"`
	Total             int64             `json:"total"`
}

var fzPageMembers = []string{
	"endRow", "hasNextPage", "hasPreviousPage", "isFirstPage", "isLastPage", "list",
	"navigateFirstPage", "navigateLastPage", "navigatePages", "navigatepageNums", "nextPage",
	"pageNum", "pageSize", "pages", "prePage", "size", "startRow", "total",
}

// fzCheckPage checks a PageInfo of page, size items a page, out of total,
// against the guide's table.
func fzCheckPage(t *testing.T, what string, raw []byte, page, size int, total int64) *fzPage {
	t.Helper()
	fzMembers(t, what, raw, fzPageMembers)
	var p fzPage
	if err := json.Unmarshal(raw, &p); err != nil || p.List == nil || p.NavigatepageNums == nil {
		t.Fatalf("%s: PageInfo %v: %s", what, err, raw)
	}
	bad := func(why string) {
		t.Fatalf("%s: page %d of %d a page out of %d: %s: %s", what, page, size, total, why, raw)
	}
	if p.PageNum != page || p.PageSize != size || p.Total != total || p.NavigatePages != 8 {
		bad("pageNum, pageSize, total or navigatePages")
	}
	pages := int((total + int64(size) - 1) / int64(size))
	if p.Pages != pages {
		bad("pages is not ceil(total / pageSize)")
	}
	first := int64(page-1) * int64(size)
	onPage := max(0, min(int64(size), total-first))
	if int64(p.Size) != onPage || len(p.List) != p.Size {
		bad("size")
	}
	if (p.Size > 0 && (p.StartRow != first+1 || p.EndRow != first+int64(p.Size))) || (p.Size == 0 && (p.StartRow != 0 || p.EndRow != 0)) {
		bad("startRow, endRow")
	}
	if p.IsFirstPage != (page == 1) || p.IsLastPage != (page == pages || pages == 0) || p.HasPreviousPage != (page > 1) || p.HasNextPage != (page < pages) {
		bad("isFirstPage, isLastPage, hasPreviousPage or hasNextPage")
	}
	// Up to 8 page numbers, a window [page-4, page+3] pushed back inside
	// 1..pages.
	want := []int{}
	if pages > 0 {
		n := min(pages, 8)
		start := 1
		if pages > 8 {
			start = page - 4
			if start < 1 {
				start = 1
			} else if page+4 > pages {
				start = pages - 7
			}
		}
		for i := range n {
			want = append(want, start+i)
		}
	}
	if !slices.Equal(p.NavigatepageNums, want) {
		bad(fmt.Sprintf("navigatepageNums, want %v", want))
	}
	nf, nl, pre, next := 0, 0, 0, 0
	if len(want) > 0 {
		nf, nl = want[0], want[len(want)-1]
		if page > 1 {
			pre = page - 1
		}
		if page < pages {
			next = page + 1
		}
	}
	if p.NavigateFirstPage != nf || p.NavigateLastPage != nl || p.PrePage != pre || p.NextPage != next {
		bad("navigateFirstPage, navigateLastPage, prePage or nextPage")
	}
	return &p
}

// fzMembers checks that raw is a JSON object with exactly the members
// want.
func fzMembers(t *testing.T, what string, raw []byte, want []string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: not a JSON object (%v): %s", what, err, fzClip(raw))
	}
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		t.Fatalf("%s: members %v, want %v: %s", what, got, w, fzClip(raw))
	}
	return m
}

func fzClip(b []byte) string {
	if len(b) > 1500 {
		return string(b[:1500]) + "…"
	}
	return string(b)
}

// fzUsername is the guide's username: key=value fields joined by &, no
// field twice, ver=1, auth_mode=accessKey and sign_method=sha256 (values
// in any case), a non-empty access_key and a timestamp of digits; at most
// 1024 bytes of UTF-8.
func fzUsername(s string) (accessKey string, ts int64, ok bool) {
	if s == "" || len(s) > 1024 || !utf8.ValidString(s) {
		return "", 0, false
	}
	fields := map[string]string{}
	for _, part := range strings.Split(s, "&") {
		i := strings.IndexByte(part, '=')
		if i <= 0 {
			return "", 0, false
		}
		if _, dup := fields[part[:i]]; dup {
			return "", 0, false
		}
		fields[part[:i]] = part[i+1:]
	}
	for name, want := range map[string]string{"ver": "1", "auth_mode": "accesskey", "sign_method": "sha256"} {
		if v, has := fields[name]; !has || strings.ToLower(v) != want {
			return "", 0, false
		}
	}
	t := fields["timestamp"]
	if fields["access_key"] == "" || t == "" || len(t) > 18 || strings.Trim(t, "0123456789") != "" {
		return "", 0, false
	}
	ts, _ = strconv.ParseInt(t, 10, 64)
	return fields["access_key"], ts, true
}

func fzSha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ---- FuzzParams ----

func FuzzParams(f *testing.F) {
	for _, s := range []struct {
		post        uint8
		query, body string
	}{
		{0, "userDomain=myapp&page=1&pageSize=10", ""},
		{0, "uid=2mP4bQ0qZ8vJ3sXk1yWn7cTfR5a", ""},
		{0, "page=2147483647&pageSize=100", ""},
		{0, "page=2147483648", ""},
		{0, "page=99999999999999999999999&pageSize=99999999999999999999999", ""},
		{0, "pageSize=1000000&page=0001", ""},
		{0, "page=%2B1", ""},
		{0, "page=-1&pageSize=-5", ""},
		{0, "page=&pageSize=", ""},
		{0, "page=1.5", ""},
		{0, "pageSize=1e2", ""},
		{0, "page=0x10", ""},
		{0, "page=%201", ""},
		{0, "page=1&page=2", ""},
		{0, "uid=%zz", ""},
		{0, "page=%", ""},
		{0, "uid=%ff%fe", ""},
		{0, "uid=a%00b", ""},
		{0, "%ff=1", ""},
		{0, "a=1;b=2", ""},
		{0, "lang=en&uid=x", ""},
		{0, "uid=" + strings.Repeat("x", 9000), ""},
		{0, "pageSize=" + strings.Repeat("0", 64) + "1", ""},
		{1, "", "grant_type=password&username=ver%3D1%26auth_mode%3DaccessKey%26sign_method%3Dsha256%26access_key%3DAKIDx%26timestamp%3D1700000000000&password=377bde10e72af0eeb0544656036e7f8df310448cbbeaec8a9f3bde5fd236b269"},
		{1, "grant_type=refresh_token", "refresh_token=QJWT%205k2v0q9x3m1c8h4n7b6z2r0t5y8u1w3e4i9"},
		{1, "grant_type=password", "grant_type=password"},
		{1, "", "grant_type=refresh_token&refresh_token=%zz"},
		{1, "", "grant_type=password&pad=" + strings.Repeat("p", 8200)},
		{2, "grant_type=password", "grant_type=password"},
		{3, "", "page=1&page=2"},
	} {
		f.Add(s.post, s.query, []byte(s.body), uint32(95))
	}
	contentTypes := []string{"", "application/x-www-form-urlencoded", "application/json", "application/x-www-form-urlencoded; charset=UTF-8"}
	f.Fuzz(func(t *testing.T, post uint8, query string, body []byte, total uint32) {
		method, ct := "GET", ""
		if post&1 != 0 || post&2 != 0 {
			method, ct = "POST", contentTypes[post%4]
		}
		r := httptest.NewRequest(method, "http://uc.test/v2/x", bytes.NewReader(body))
		r.URL.RawQuery = query
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		q, err := params(httptest.NewRecorder(), r)

		// The oracle.
		want, werr := url.ParseQuery(query)
		if werr == nil && len(query) > MaxQueryBytes {
			werr = errors.New("long query")
		}
		if werr == nil && method == "POST" && strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			form, ferr := url.ParseQuery(string(body))
			switch {
			case len(body) > MaxBodyBytes:
				werr = errors.New("long body")
			case ferr != nil:
				werr = ferr
			}
			for k, v := range form {
				want[k] = append(want[k], v...)
			}
		}
		for k, vs := range want {
			if werr == nil && (len(vs) != 1 || !fzValidText(k) || !fzValidText(vs[0])) {
				werr = fmt.Errorf("parameter %q", k)
			}
		}
		if err != nil {
			var e *apiError
			if !errors.As(err, &e) || e.Code != codeParam || e.ExtMsg == "" {
				t.Fatalf("params: %T %v, want a 50005", err, err)
			}
			if werr == nil {
				t.Fatalf("params(%q, %q) = %v, want %v", query, body, err, want)
			}
			return
		}
		if werr != nil {
			t.Fatalf("params(%q, %q) accepted it, want refused: %v", query, body, werr)
		}
		if fmt.Sprint(q) != fmt.Sprint(want) {
			t.Fatalf("params(%q, %q) = %v, want %v", query, body, q, want)
		}

		// Paging, and the PageInfo of the page.
		page, size, err := paging(q)
		wpage, wsize, ok, maybe := fzPaging(q)
		if err != nil {
			var e *apiError
			if !errors.As(err, &e) || e.Code != codeParam || e.ExtMsg == "" {
				t.Fatalf("paging: %T %v, want a 50005", err, err)
			}
			if ok && !maybe {
				t.Fatalf("paging(%v) = %v, want page %d of %d", q, err, wpage, wsize)
			}
			return
		}
		if !ok || page != wpage || size != wsize {
			t.Fatalf("paging(%v) = page %d of %d, want %d of %d (ok %v)", q, page, size, wpage, wsize, ok)
		}
		n := max(0, min(int64(size), int64(total)-int64(page-1)*int64(size)))
		raw, err := json.Marshal(newPageInfo(page, size, int64(total), make([]int, n)))
		if err != nil {
			t.Fatal(err)
		}
		fzCheckPage(t, "newPageInfo", raw, page, size, int64(total))

		// A uid is the parameter's value without surrounding spaces.
		if uid, err := requiredUID(q); (err == nil) != (strings.TrimSpace(q.Get("uid")) != "") || uid != strings.TrimSpace(q.Get("uid")) {
			t.Fatalf("requiredUID(%v) = %q, %v", q, uid, err)
		}
		// A token is read with or without its prefix, spaces around.
		for _, tok := range q["refresh_token"] {
			bare := strings.TrimSpace(tok)
			if len(bare) >= 4 && strings.EqualFold(bare[:4], "QJWT") && (len(bare) == 4 || bare[4] == ' ') {
				continue // a prefix, already
			}
			for _, form := range []string{tok, "QJWT " + bare, "  qjwt   " + bare + " "} {
				if got := bareToken(form); got != bare {
					t.Fatalf("bareToken(%q) = %q, want %q", form, got, bare)
				}
			}
		}
	})
}

// ---- The instance ----

// fzEnv is a real instance: two apps, keys of every kind with a live
// access token each, and users in both apps.
type fzEnv struct {
	h          http.Handler
	svc        *core.Service
	app, other *usercenter.App
	// keys: 0 all permissions on app; 1 users.read on app; 2 all on
	// other; 3 users.read and pii.read on both; 4 users.read on app,
	// revoked.
	keys    [5]*usercenter.APIKey
	tokens  [5]string // bare access tokens of the keys
	u, v    *usercenter.User
	domains map[uint64]string
	users   map[uint64]int64 // how many users each app has
	calls   int              // see freshTokens
}

func fzInstance(tb testing.TB) *fzEnv {
	ctx := context.Background()
	svc, _ := svctest.New(tb)
	var err error
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &fzEnv{svc: svc}
	must := func(err error) {
		if err != nil {
			tb.Helper()
			tb.Fatal(err)
		}
	}
	e.app, e.keys[0], err = svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "myapp", RateLimit: 100_000})
	must(err)
	e.other, e.keys[2], err = svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "other", RateLimit: 100_000})
	must(err)
	e.domains = map[uint64]string{e.app.SdkAppID: e.app.UserDomain, e.other.SdkAppID: e.other.UserDomain}
	e.keys[1], err = svc.CreateKey(ctx, usercenter.Operator(), "reader", []uint64{e.app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead})
	must(err)
	e.keys[3], err = svc.CreateKey(ctx, usercenter.Operator(), "both", []uint64{e.app.SdkAppID, e.other.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead, usercenter.PermPIIRead})
	must(err)
	e.keys[4], err = svc.CreateKey(ctx, usercenter.Operator(), "revoked", []uint64{e.app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead})
	must(err)
	e.issueTokens(tb, len(e.keys))
	must(svc.RevokeKey(ctx, usercenter.Operator(), e.keys[4].SecretID))
	str := func(s string) *string { return &s }
	patch := core.UserPatch{
		OriginID: str("crm-1"), Nickname: str("Alice"), Phone: str("+8613612346688"), Email: str("alice@example.com"),
		Address: str("1 Woodstock Road"), City: str("Oxford"), ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderQQ: str("10001")},
	}
	e.u, err = svctest.CreateUser(svc, ctx, usercenter.Operator(), e.app.SdkAppID, patch)
	must(err)
	e.v, err = svctest.CreateUser(svc, ctx, usercenter.Operator(), e.other.SdkAppID, patch)
	must(err)
	e.users = map[uint64]int64{e.app.SdkAppID: 24, e.other.SdkAppID: 1}
	for i := range 23 {
		_, err := svctest.CreateUser(svc, ctx, usercenter.Operator(), e.app.SdkAppID, core.UserPatch{Nickname: str(fmt.Sprint("user ", i)), Email: str(fmt.Sprintf("u%d@example.com", i))})
		must(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v2/", obs.Middleware("enterprise", log, nil, New(svc, log)))
	e.h = mux
	return e
}

// issueTokens logs the first n keys in, keeping their tokens.
func (e *fzEnv) issueTokens(tb testing.TB, n int) {
	for i, k := range e.keys[:n] {
		username := fmt.Sprintf("ver=1&auth_mode=accessKey&sign_method=sha256&access_key=%s&timestamp=%d", k.SecretID, time.Now().UnixMilli())
		sess, err := e.svc.AccessKeyLogin(context.Background(), username, fzSha256Hex(username+k.SecretKey))
		if err != nil {
			tb.Helper()
			tb.Fatal(err)
		}
		e.tokens[i] = sess.Token
	}
}

// freshTokens counts a call that may log in, and logs the live keys in
// again before such calls could push their tokens out: a key keeps
// core.MaxEnterpriseTokensPerKey live tokens, the oldest going first, and
// a fuzzer's valid logins would otherwise in time revoke the tokens the
// other calls authenticate with.
func (e *fzEnv) freshTokens(tb testing.TB) {
	e.calls++
	if e.calls%(core.MaxEnterpriseTokensPerKey/2) == 0 {
		e.issueTokens(tb, 4) // not the revoked key's
	}
}

// subst fills the placeholders of query and body, signing the username
// they carry where $SIG stands.
func (e *fzEnv) subst(query string, body []byte) (string, []byte) {
	now := time.Now()
	r := strings.NewReplacer(
		"$AK", e.keys[0].SecretID, "$AO", e.keys[2].SecretID, "$AR", e.keys[4].SecretID,
		"$NOW", strconv.FormatInt(now.UnixMilli(), 10), "$OLD", strconv.FormatInt(now.Add(-6*time.Minute).UnixMilli(), 10),
		"$TOK", url.QueryEscape(tokenPrefix+e.tokens[0]),
		"$U", e.u.ID, "$V", e.v.ID, "$D", url.QueryEscape(e.app.UserDomain), "$E", url.QueryEscape(e.other.UserDomain))
	query, b := r.Replace(query), r.Replace(string(body))
	if strings.Contains(query+b, "$SIG") {
		username := ""
		for _, s := range []string{query, b} {
			if q, _ := url.ParseQuery(s); q.Has("username") {
				username = q.Get("username")
				break
			}
		}
		secret := e.keys[0].SecretKey
		if ak, _, ok := fzUsername(username); ok {
			for _, k := range e.keys {
				if k.SecretID == ak {
					secret = k.SecretKey
				}
			}
		}
		sig := fzSha256Hex(username + secret)
		query, b = strings.ReplaceAll(query, "$SIG", sig), strings.ReplaceAll(b, "$SIG", sig)
	}
	return query, []byte(b)
}

// keyOf finds our key by AccessKey.
func (e *fzEnv) keyOf(accessKey string) int {
	for i, k := range e.keys {
		if k.SecretID == accessKey {
			return i
		}
	}
	return -1
}

// ---- FuzzAccessKeyLogin ----

func FuzzAccessKeyLogin(f *testing.F) {
	e := fzInstance(f)
	for _, s := range []string{
		"ver=1&auth_mode=accessKey&sign_method=sha256&access_key=$AK&timestamp=$NOW",
		"timestamp=$NOW&access_key=$AK&sign_method=SHA256&auth_mode=ACCESSKEY&ver=1",
		"ver=1&auth_mode=accessKey&sign_method=sha256&access_key=$AK&timestamp=$NOW&client=x&note=",
		"ver=1&auth_mode=accessKey&sign_method=sha256&access_key=$AK&timestamp=$OLD",
		"ver=1&auth_mode=accessKey&sign_method=sha256&access_key=$AR&timestamp=$NOW",
		"ver=1&auth_mode=accessKey&sign_method=sha256&access_key=$AO&timestamp=$NOW",
		"ver=1&auth_mode=accessKey&sign_method=sha256&access_key=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&timestamp=1700000000000",
		"ver=1&auth_mode=accessKey&sign_method=sha256&access_key=$AK&timestamp=000000$NOW",
		"ver=1&auth_mode=accessKey&sign_method=sha256&access_key=$AK&timestamp=999999999999999999",
		"ver=1&auth_mode=accessKey&sign_method=sha256&access_key=$AK&timestamp=-1",
		"ver=1&auth_mode=accessKey&sign_method=sha256&access_key=$AK&timestamp=",
		"ver=1&auth_mode=accessKey&sign_method=sha256&access_key=&timestamp=$NOW",
		"ver=2&auth_mode=accessKey&sign_method=sha256&access_key=$AK&timestamp=$NOW",
		"ver=1&ver=1&auth_mode=accessKey&sign_method=sha256&access_key=$AK&timestamp=$NOW",
		"ver=1&auth_mode=accessKey&sign_method=sha256&access_key=$AK&timestamp=$NOW&",
		"ver=1&auth_mode=accessKey&sign_method=sha256&access_key=a=b&timestamp=$NOW",
		"=1&ver=1", "ver", "", "\xff",
		"ver=1&auth_mode=accessKey&sign_method=sha256&access_key=" + strings.Repeat("A", 200) + "&timestamp=$NOW",
	} {
		for sig := range 4 {
			f.Add(s, uint8(sig), "377bde10e72af0eeb0544656036e7f8df310448cbbeaec8a9f3bde5fd236b269")
		}
	}
	f.Add("ver=1&auth_mode=accessKey&sign_method=sha256&access_key=$AK&timestamp=$NOW", uint8(2), "zz7bde10e72af0eeb0544656036e7f8df310448cbbeaec8a9f3bde5fd236b269")
	f.Add("ver=1&auth_mode=accessKey&sign_method=sha256&access_key=$AK&timestamp=$NOW", uint8(2), "377b")
	usedLogins := map[string]bool{}
	f.Fuzz(func(t *testing.T, username string, sig uint8, password string) {
		now := time.Now()
		username = strings.NewReplacer(
			"$AK", e.keys[0].SecretID, "$AO", e.keys[2].SecretID, "$AR", e.keys[4].SecretID,
			"$NOW", strconv.FormatInt(now.UnixMilli(), 10), "$OLD", strconv.FormatInt(now.Add(-6*time.Minute).UnixMilli(), 10),
		).Replace(username)
		ak, ts, ok := fzUsername(username)
		k := e.keyOf(ak)
		secret := "not the secret"
		if k >= 0 {
			secret = e.keys[k].SecretKey
		}
		switch sig % 4 {
		case 0:
			password = fzSha256Hex(username + secret)
		case 1:
			password = strings.ToUpper(fzSha256Hex(username + secret))
		case 3:
			password = fzSha256Hex(username + e.keys[1].SecretKey)
		}
		sent := time.Now()
		sess, err := e.svc.AccessKeyLogin(context.Background(), username, password)

		// What the guide says the answer is; 0 when either edge of the
		// clock window may be met, at whatever moment of the call the
		// service read its clock.
		_, hexErr := hex.DecodeString(password)
		least, most := fzAgeRange(ts, sent, time.Now())
		want := codeOK
		switch {
		case !ok, len(password) != 64 || hexErr != nil:
			want = codeParam
		case k < 0 || k == 4:
			want = codeNoAccessKey
		case !strings.EqualFold(password, fzSha256Hex(username+secret)):
			want = codeUnauthorized
		case least > core.AccessKeyLoginWindow+2*time.Second:
			want = codeUnauthorized
		case most > core.AccessKeyLoginWindow-2*time.Second:
			want = 0
		}
		// A signed login is accepted once: the same one again is a replay.
		replayKey := ak + "\x00" + strings.ToLower(password)
		if want == codeOK && usedLogins[replayKey] {
			want = codeUnauthorized
		}
		got := codeOK
		if err != nil {
			got = fromDomain(err).Code
			if _, known := messages[got]; !known || got == codeInternal {
				t.Fatalf("AccessKeyLogin(%q, %q): %v maps to %d", username, password, err, got)
			}
		} else if sess.Token == "" || sess.SecretID != ak || !sess.ExpiresAt.After(now) {
			t.Fatalf("AccessKeyLogin(%q, %q) = %+v", username, password, sess)
		} else {
			usedLogins[replayKey] = true
		}
		if want != 0 && got != want {
			t.Fatalf("AccessKeyLogin(%q, %q) = %d (%v), want %d", username, password, got, err, want)
		}
	})
}

// ---- The whole handler ----

// fzRoutes are the routes, and a path none serves.
var fzRoutes = []struct {
	path     string
	methods  []string
	quecauth bool
}{
	{pathLogin, []string{"GET", "POST"}, true},
	{pathRefresh, []string{"GET", "POST"}, true},
	{pathUserInfo, []string{"GET"}, false},
	{pathDomainList, []string{"GET"}, false},
	{pathDomainUserList, []string{"GET"}, false},
	{pathSetUserStatus, []string{"GET"}, false},
	{"/v2/enduser/enterpriseapi/userList", nil, false},
}

var fzMethods = []string{"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"}

var fzContentTypes = []string{"application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8", "application/json", ""}

// Authorization modes.
const (
	fzAuthAll     = iota // QJWT and the token of key 0
	fzAuthReader         // of key 1
	fzAuthOther          // of key 2
	fzAuthBoth           // the bare token of key 3
	fzAuthNone           // no header
	fzAuthPrefix         // "QJWT " alone
	fzAuthGarbage        // a token never issued
	fzAuthRevoked        // the token of the revoked key 4
)

// keyApps and fzKeyPerms describe the keys of fzInstance.
func (e *fzEnv) keyApps(k int) []uint64 {
	switch k {
	case 2:
		return []uint64{e.other.SdkAppID}
	case 3:
		return []uint64{e.app.SdkAppID, e.other.SdkAppID}
	}
	return []uint64{e.app.SdkAppID}
}

var fzKeyPerms = [5][]usercenter.Permission{
	usercenter.AllPermissions, {usercenter.PermUsersRead}, usercenter.AllPermissions,
	{usercenter.PermUsersRead, usercenter.PermPIIRead}, {usercenter.PermUsersRead},
}

// fzCall is one request of FuzzHandler.
type fzCall struct {
	route       int
	method, ct  string
	auth        int
	query, body string
}

func (c *fzCall) String() string {
	return fmt.Sprintf("%s %s (auth %d, %q) ?%q body %q", c.method, fzRoutes[c.route].path, c.auth, c.ct, c.query, c.body)
}

// fzAnswer is one answer, checked for the envelope.
type fzAnswer struct {
	raw    []byte
	m      map[string]json.RawMessage
	code   int
	extMsg string
	// sent and answered bound when the handler read its clock.
	sent, answered time.Time
}

// fzAgeRange is the least and the most that a clock read between from and
// to can be off the timestamp ts (in milliseconds): however long a loaded
// machine made the call, the service read its clock in that span.
func fzAgeRange(ts int64, from, to time.Time) (least, most time.Duration) {
	at := time.UnixMilli(ts)
	a, b := from.Sub(at), to.Sub(at)
	most = max(a.Abs(), b.Abs())
	if (a > 0) == (b > 0) && a != 0 && b != 0 {
		least = min(a.Abs(), b.Abs())
	}
	return least, most
}

// do serves a request and checks what every answer obeys.
func (e *fzEnv) do(t *testing.T, c *fzCall) *fzAnswer {
	t.Helper()
	rt := fzRoutes[c.route]
	req := httptest.NewRequest(c.method, "http://uc.test/", strings.NewReader(c.body))
	req.URL.Path, req.URL.RawQuery = rt.path, c.query
	if c.ct != "" {
		req.Header.Set("Content-Type", c.ct)
	}
	switch c.auth {
	case fzAuthAll, fzAuthReader, fzAuthOther, fzAuthRevoked:
		req.Header.Set("Authorization", tokenPrefix+e.tokens[map[int]int{fzAuthAll: 0, fzAuthReader: 1, fzAuthOther: 2, fzAuthRevoked: 4}[c.auth]])
	case fzAuthBoth:
		req.Header.Set("Authorization", e.tokens[3])
	case fzAuthPrefix:
		req.Header.Set("Authorization", tokenPrefix)
	case fzAuthGarbage:
		req.Header.Set("Authorization", tokenPrefix+strings.Repeat("0", 35))
	}
	rec := httptest.NewRecorder()
	sent := time.Now()
	e.h.ServeHTTP(rec, req)
	answered := time.Now()

	raw, h := rec.Body.Bytes(), rec.Header()
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: HTTP %d, want 200 always: %s", c, rec.Code, fzClip(raw))
	}
	if h.Get("X-Request-Id") == "" || h.Get("Content-Type") != "application/json;charset=UTF-8" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("%s: headers %v", c, h)
	}
	a := &fzAnswer{raw: raw, sent: sent, answered: answered}
	if err := json.Unmarshal(raw, &a.m); err != nil {
		t.Fatalf("%s: not a JSON object (%v): %s", c, err, fzClip(raw))
	}
	var msg string
	if json.Unmarshal(a.m["code"], &a.code) != nil || json.Unmarshal(a.m["msg"], &msg) != nil || json.Unmarshal(a.m["extMsg"], &a.extMsg) != nil {
		t.Fatalf("%s: code, msg or extMsg missing or mistyped: %s", c, fzClip(raw))
	}
	if want, ok := messages[a.code]; !ok || a.code == codeInternal || msg != want {
		t.Fatalf("%s: code %d msg %q: %s", c, a.code, msg, fzClip(raw))
	}
	if a.code == codeOK {
		if a.extMsg != "" {
			t.Fatalf("%s: extMsg on a success: %s", c, fzClip(raw))
		}
		return a
	}
	members := []string{"code", "msg", "extMsg"}
	if rt.quecauth && rt.methods != nil {
		members = append(members, "error")
		var errMsg string
		if err := json.Unmarshal(a.m["error"], &errMsg); err != nil || errMsg != msg {
			t.Fatalf("%s: error %q beside msg %q", c, errMsg, msg)
		}
	}
	fzMembers(t, c.String(), raw, members)
	if a.code == codeMethodNotAllowed && h.Get("Allow") == "" {
		t.Fatalf("%s: 405 without Allow", c)
	}
	return a
}

func FuzzHandler(f *testing.F) {
	e := fzInstance(f)
	type seed struct {
		op, mode    uint8
		query, body string
	}
	const post = 0x08
	form := func(ct int) uint8 { return uint8(ct << 3) }
	alt := func(route int, method string) uint8 {
		return uint8(route) | 0x80 | uint8(slices.Index(fzMethods, method))<<4
	}
	login := "grant_type=password&username=ver%3D1%26auth_mode%3DaccessKey%26sign_method%3Dsha256%26access_key%3D$AK%26timestamp%3D$NOW&password=$SIG"
	for _, s := range []seed{
		{0, fzAuthNone, login, ""},
		{0, fzAuthNone, login + "&client_id=sdfasdf&scope", ""},
		{0, fzAuthNone, "grant_type=password&username=timestamp%3D$NOW%26access_key%3D$AO%26sign_method%3Dsha256%26auth_mode%3DaccessKey%26ver%3D1&password=$SIG", ""},
		{0 | post, fzAuthNone | form(0), "", login},
		{0 | post, fzAuthNone | form(1), "grant_type=password", "username=ver%3D1%26auth_mode%3DaccessKey%26sign_method%3Dsha256%26access_key%3D$AK%26timestamp%3D$NOW&password=$SIG"},
		{0 | post, fzAuthNone | form(2), login, `{"grant_type":"password"}`},
		{0 | post, fzAuthNone | form(0), login, login},
		{0, fzAuthNone, "grant_type=password&username=ver%3D1%26auth_mode%3DaccessKey%26sign_method%3Dsha256%26access_key%3D$AK%26timestamp%3D$OLD&password=$SIG", ""},
		{0, fzAuthNone, "grant_type=password&username=ver%3D1%26auth_mode%3DaccessKey%26sign_method%3Dsha256%26access_key%3D$AR%26timestamp%3D$NOW&password=$SIG", ""},
		{0, fzAuthNone, "grant_type=password&username=ver%3D1%26auth_mode%3DaccessKey%26sign_method%3Dsha256%26access_key%3DAKIDnope%26timestamp%3D$NOW&password=" + strings.Repeat("0", 64), ""},
		{0, fzAuthNone, "grant_type=password&username=ver%3D1%26auth_mode%3DaccessKey%26sign_method%3Dsha256%26access_key%3D$AK%26timestamp%3D$NOW&password=" + strings.Repeat("0", 64), ""},
		{0, fzAuthNone, "grant_type=password&username=ver=1&auth_mode=accessKey&sign_method=sha256&access_key=$AK&timestamp=$NOW&password=$SIG", ""},
		{0, fzAuthNone, "grant_type=client_credentials&username=x&password=y", ""},
		{0, fzAuthNone, "username=x&password=y", ""},
		{0, fzAuthNone, "grant_type=password&username=ver%3D1%26%&password=" + strings.Repeat("0", 64), ""},
		{0, fzAuthNone, "grant_type=password&username=ver%3D1&password=%ff", ""},
		{0, fzAuthNone, "", ""},
		{1, fzAuthNone, "grant_type=refresh_token&refresh_token=$TOK", ""},
		{1 | post, fzAuthNone | form(0), "", "grant_type=refresh_token&refresh_token=$TOK"},
		{1, fzAuthNone, "grant_type=refresh_token&refresh_token=QJWT+" + strings.Repeat("0", 35), ""},
		{1, fzAuthNone, "grant_type=refresh_token&refresh_token=QJWT%20", ""},
		{1, fzAuthNone, "grant_type=password&refresh_token=$TOK", ""},
		{1, fzAuthNone, "grant_type=refresh_token&refresh_token=%zz", ""},
		{2, fzAuthAll, "uid=$U", ""},
		{2, fzAuthAll, "uid=%20$U%20&lang=en", ""},
		{2, fzAuthReader, "uid=$U", ""},
		{2, fzAuthOther, "uid=$U", ""},
		{2, fzAuthOther, "uid=$V", ""},
		{2, fzAuthBoth, "uid=$V", ""},
		{2, fzAuthAll, "uid=", ""},
		{2, fzAuthAll, "uid=nope", ""},
		{2, fzAuthAll, "uid=" + strings.Repeat("u", 100), ""},
		{2, fzAuthAll, "uid=a%00b", ""},
		{2, fzAuthAll, "uid=$U&uid=$U", ""},
		{2, fzAuthAll, "uid=%zz", ""},
		{2, fzAuthNone, "uid=$U", ""},
		{2, fzAuthPrefix, "uid=$U", ""},
		{2, fzAuthGarbage, "uid=$U", ""},
		{2, fzAuthRevoked, "uid=$U", ""},
		{3, fzAuthAll, "", ""},
		{3, fzAuthBoth, "page=1&pageSize=1", ""},
		{3, fzAuthBoth, "page=2&pageSize=1", ""},
		{3, fzAuthBoth, "page=3&pageSize=1", ""},
		{3, fzAuthAll, "pageSize=99999999999999999999", ""},
		{3, fzAuthAll, "page=x", ""},
		{4, fzAuthAll, "userDomain=$D", ""},
		{4, fzAuthAll, "userDomain=$D&page=2&pageSize=2", ""},
		{4, fzAuthAll, "userDomain=$D&page=7&pageSize=2", ""},
		{4, fzAuthAll, "userDomain=$D&page=13&pageSize=2", ""},
		{4, fzAuthAll, "userDomain=$D&page=14&pageSize=2", ""},
		{4, fzAuthAll, "userDomain=$D&page=2147483647&pageSize=100", ""},
		{4, fzAuthAll, "userDomain=$D&pageSize=1000000", ""},
		{4, fzAuthReader, "userDomain=%20$D%20&pageSize=3", ""},
		{4, fzAuthBoth, "userDomain=$E", ""},
		{4, fzAuthOther, "userDomain=$D", ""},
		{4, fzAuthAll, "userDomain=$E", ""},
		{4, fzAuthAll, "userDomain=", ""},
		{4, fzAuthAll, "userDomain=%c3%28", ""},
		{4, fzAuthAll, "userDomain=" + strings.Repeat("d", 80), ""},
		{4, fzAuthAll, "userDomain=$D&page=0", ""},
		{4, fzAuthAll, "userDomain=$D&page=1&page=2", ""},
		{5, fzAuthAll, "uid=$U&status=1", ""},
		{5, fzAuthAll, "uid=$U&status=0", ""},
		{5, fzAuthAll, "uid=$U&status=2", ""},
		{5, fzAuthAll, "uid=$U&status=", ""},
		{5, fzAuthAll, "uid=$U&status=0&status=1", ""},
		{5, fzAuthReader, "uid=$U&status=1", ""},
		{5, fzAuthOther, "uid=$U&status=1", ""},
		{5, fzAuthOther, "uid=$V&status=1", ""},
		{5, fzAuthAll, "status=1", ""},
		{6, fzAuthAll, "uid=$U", ""},
		{alt(2, "POST"), fzAuthAll | form(0), "", "uid=$U"},
		{alt(0, "PUT"), fzAuthNone, login, ""},
		{alt(5, "DELETE"), fzAuthAll, "uid=$U&status=0", ""},
		{alt(3, "HEAD"), fzAuthAll, "", ""},
	} {
		f.Add(s.op, s.mode, s.query, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, op, mode uint8, query string, body []byte) {
		e.freshTokens(t)
		c := &fzCall{route: int(op&0x07) % len(fzRoutes), method: "GET", auth: int(mode & 0x07), ct: fzContentTypes[mode>>3&0x03]}
		rt := fzRoutes[c.route]
		if op&post != 0 && slices.Contains(rt.methods, "POST") {
			c.method = "POST"
		}
		if op&0x80 != 0 {
			c.method = fzMethods[int(op>>4&0x07)%len(fzMethods)]
		}
		var b []byte
		c.query, b = e.subst(query, body)
		c.body = string(b)
		a := e.do(t, c)
		fzCheckHandler(t, e, c, a)
	})
}

// fzCheckHandler checks the answer against what the caller is entitled
// to.
func fzCheckHandler(t *testing.T, e *fzEnv, c *fzCall, a *fzAnswer) {
	t.Helper()
	rt := fzRoutes[c.route]
	switch {
	case rt.methods == nil:
		if a.code != codeNotFound {
			t.Fatalf("%s: no such path, yet code %d", c, a.code)
		}
		return
	case !slices.Contains(rt.methods, c.method):
		if a.code != codeMethodNotAllowed {
			t.Fatalf("%s: method not allowed, yet code %d", c, a.code)
		}
		return
	}
	// The parameters as the route reads them.
	q, _ := url.ParseQuery(c.query)
	if c.method == "POST" && strings.HasPrefix(c.ct, "application/x-www-form-urlencoded") {
		form, _ := url.ParseQuery(c.body)
		for k, v := range form {
			q[k] = append(q[k], v...)
		}
	}
	key := map[int]int{fzAuthAll: 0, fzAuthReader: 1, fzAuthOther: 2, fzAuthBoth: 3}[c.auth]
	if !rt.quecauth {
		switch c.auth {
		case fzAuthNone, fzAuthPrefix:
			if a.code != codeNoToken {
				t.Fatalf("%s: no token, yet code %d: %s", c, a.code, a.raw)
			}
			return
		case fzAuthGarbage, fzAuthRevoked:
			if a.code != codeBadToken {
				t.Fatalf("%s: a dead token, yet code %d: %s", c, a.code, a.raw)
			}
			return
		}
	}
	allowed := map[string][]int{
		pathLogin:          {codeParam, codeNoAccessKey, codeUnauthorized},
		pathRefresh:        {codeParam, codeBadToken},
		pathUserInfo:       {codeParam, codeNoUID, codeNoPermission, codeNoUser},
		pathDomainList:     {codeParam},
		pathDomainUserList: {codeParam, codeNoDomain, codeNoPermission, codeNoDomainFound},
		pathSetUserStatus:  {codeParam, codeNoUID, codeNoPermission, codeNoUser},
	}[rt.path]
	if a.code != codeOK {
		if !slices.Contains(allowed, a.code) {
			t.Fatalf("%s: code %d is not one this route documents: %s", c, a.code, a.raw)
		}
		return
	}

	// A success the caller is entitled to.
	single := func(name string) string {
		if len(q[name]) != 1 || !fzValidText(q[name][0]) {
			t.Fatalf("%s: succeeded with %s=%q", c, name, q[name])
		}
		return q[name][0]
	}
	for name := range q {
		single(name)
	}
	var data json.RawMessage
	if !rt.quecauth {
		fzMembers(t, c.String(), a.raw, []string{"code", "msg", "extMsg", "data"})
		data = a.m["data"]
	}
	switch rt.path {
	case pathLogin, pathRefresh:
		fzMembers(t, c.String(), a.raw, []string{"code", "msg", "access_token", "token_type", "expires_in", "scope", "extMsg"})
		var tok struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			ExpiresIn   int64  `json:"expires_in"`
			Scope       string `json:"scope"`
		}
		if err := json.Unmarshal(a.raw, &tok); err != nil || !strings.HasPrefix(tok.AccessToken, tokenPrefix) || len(tok.AccessToken) <= len(tokenPrefix) ||
			tok.TokenType != "jwt" || tok.Scope != "" || tok.ExpiresIn <= 0 || tok.ExpiresIn > int64(core.DefaultEnterpriseTokenTTL/time.Second) {
			t.Fatalf("%s: token answer %s", c, a.raw)
		}
		if rt.path == pathRefresh {
			if single("grant_type") != "refresh_token" {
				t.Fatalf("%s: refreshed with grant_type %q", c, q.Get("grant_type"))
			}
			// Only a live token refreshes, and within 30 minutes of its
			// issue into itself.
			bare := bareToken(single("refresh_token"))
			if i := slices.Index(e.tokens[:], bare); i < 0 || i == 4 || tok.AccessToken != tokenPrefix+bare {
				t.Fatalf("%s: refreshed %q into %s", c, bare, a.raw)
			}
			return
		}
		if single("grant_type") != "password" {
			t.Fatalf("%s: logged in with grant_type %q", c, q.Get("grant_type"))
		}
		username, password := single("username"), single("password")
		ak, ts, ok := fzUsername(username)
		k := e.keyOf(ak)
		least, _ := fzAgeRange(ts, a.sent, a.answered)
		if !ok || k < 0 || k == 4 || !strings.EqualFold(password, fzSha256Hex(username+e.keys[k].SecretKey)) ||
			least > core.AccessKeyLoginWindow+2*time.Second {
			t.Fatalf("%s: logged in with username %q password %q", c, username, password)
		}
	case pathUserInfo:
		fzCheckUser(t, e, c, key, data, "")
		var u userJSON
		json.Unmarshal(data, &u)
		if u.UID != strings.TrimSpace(single("uid")) {
			t.Fatalf("%s: asked for %q, got %s", c, q.Get("uid"), data)
		}
	case pathDomainList:
		page, size, ok, _ := fzPaging(q)
		if !ok {
			t.Fatalf("%s: served page %v", c, q)
		}
		apps := e.keyApps(key)
		p := fzCheckPage(t, c.String(), data, page, size, int64(len(apps)))
		for i, raw := range p.List {
			fzMembers(t, c.String(), raw, []string{"addTime", "addTimeTs", "enable", "entId", "isEnable", "remark", "updateTime", "updateTimeTs", "userDomain", "userDomainId", "userDomainSecret", "userDomainType"})
			var d domainJSON
			json.Unmarshal(raw, &d)
			// The key's apps, in SdkAppId order, without secrets.
			want := slices.Sorted(slices.Values(apps))[(page-1)*size+i]
			if d.UserDomainID != want || d.UserDomain != e.domains[want] || d.UserDomainSecret != "" || !d.Enable || !d.IsEnable {
				t.Fatalf("%s: domain %d is %s", c, i, raw)
			}
		}
	case pathDomainUserList:
		domain := strings.TrimSpace(single("userDomain"))
		page, size, ok, _ := fzPaging(q)
		if !ok || !slices.ContainsFunc(e.keyApps(key), func(id uint64) bool { return e.domains[id] == domain }) {
			t.Fatalf("%s: listed domain %q, page %v", c, domain, q)
		}
		var app uint64
		for id, d := range e.domains {
			if d == domain {
				app = id
			}
		}
		p := fzCheckPage(t, c.String(), data, page, size, e.users[app])
		for _, raw := range p.List {
			fzCheckUser(t, e, c, key, raw, domain)
		}
	case pathSetUserStatus:
		if !slices.Contains(fzKeyPerms[key], usercenter.PermUsersWrite) || string(data) != "{}" {
			t.Fatalf("%s: key %d set a status: %s", c, key, a.raw)
		}
		status := single("status")
		u, err := e.svc.GetUser(context.Background(), usercenter.Operator(), strings.TrimSpace(single("uid")), nil)
		if err != nil || (status != "0" && status != "1") || strconv.Itoa(int(u.Status)) != status {
			t.Fatalf("%s: status %q set, user now %+v (%v)", c, status, u, err)
		}
		if !slices.Contains(e.keyApps(key), u.SdkAppID) {
			t.Fatalf("%s: key %d set the status of a user of app %d", c, key, u.SdkAppID)
		}
	}
}

// fzCheckUser checks a user object answered to key: of one of its apps
// (of domain, if given), personal data plain only with pii.read.
func fzCheckUser(t *testing.T, e *fzEnv, c *fzCall, key int, raw json.RawMessage, domain string) {
	t.Helper()
	fzMembers(t, c.String(), raw, []string{
		"address", "alipayUserId", "appleUserId", "city", "email", "facebookUserId", "headimg", "lang",
		"lastLoginTime", "lastLoginTimeTs", "logonMode", "nationality", "nikeName", "phone", "province",
		"qqUserId", "registerTime", "registerTimeTs", "remark", "sex", "signature", "status", "timezone",
		"twitterUserId", "uid", "userDomain", "wechatMiniprogramUserId", "wechatOffiaccountUserId", "wechatUnionId",
	})
	var u userJSON
	if err := json.Unmarshal(raw, &u); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(fzKeyPerms[key], usercenter.PermUsersRead) {
		t.Fatalf("%s: key %d without users.read read %s", c, key, raw)
	}
	if !slices.ContainsFunc(e.keyApps(key), func(id uint64) bool { return e.domains[id] == u.UserDomain }) || (domain != "" && u.UserDomain != domain) {
		t.Fatalf("%s: key %d read a user of domain %q: %s", c, key, u.UserDomain, raw)
	}
	pii := slices.Contains(fzKeyPerms[key], usercenter.PermPIIRead)
	for _, v := range []string{u.Phone, u.Email} {
		if v != "" && !pii && !strings.Contains(v, "****") {
			t.Fatalf("%s: key %d without pii.read got plain data: %s", c, key, raw)
		}
	}
	if u.Address != "" && !strings.Contains(u.Address, "****") {
		t.Fatalf("%s: an address in plain: %s", c, raw)
	}
	if u.RegisterTime != u.RegisterTimeTs*1000+u.RegisterTime%1000 || u.LastLoginTime/1000 != u.LastLoginTimeTs {
		t.Fatalf("%s: milliseconds and seconds disagree: %s", c, raw)
	}
}

// ---- FuzzLoginRetry ----

// FuzzLoginRetry sends the same login twice. The guide: "usercenter
// remembers every signed login it has accepted for 10 minutes and refuses
// the same username and password a second time with 401". So an accepted
// login is refused when sent again, and a refused one is refused the same
// way again: nothing was accepted.
func FuzzLoginRetry(f *testing.F) {
	e := fzInstance(f)
	for _, s := range []string{
		"grant_type=password&username=ver%3D1%26auth_mode%3DaccessKey%26sign_method%3Dsha256%26access_key%3D$AK%26timestamp%3D$NOW&password=$SIG",
		"grant_type=password&username=timestamp%3D$NOW%26access_key%3D$AO%26sign_method%3DSHA256%26auth_mode%3Daccesskey%26ver%3D1&password=$SIG&scope=",
		"grant_type=password&username=ver%3D1&password=%ff",
		"grant_type=client_credentials&username=x&password=y",
		"username=x&password=y",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		c := &fzCall{route: 0, method: "GET", auth: fzAuthNone}
		c.query, _ = e.subst(query, nil)
		q, _ := url.ParseQuery(c.query)
		sent := time.Now()
		first := e.do(t, c)
		again := e.do(t, c)
		if _, ts, ok := fzUsername(q.Get("username")); ok {
			if least, most := fzAgeRange(ts, sent, time.Now()); most > core.AccessKeyLoginWindow-2*time.Second && least < core.AccessKeyLoginWindow+2*time.Second {
				return // the clock may have crossed the window's edge between the two
			}
		}
		switch {
		case first.code == codeOK && (again.code != codeUnauthorized || !strings.Contains(again.extMsg, "already used")):
			t.Fatalf("%s: accepted, then replayed with code %d %q", c, again.code, again.extMsg)
		case first.code != codeOK && again.code != first.code:
			t.Fatalf("%s: refused with code %d %q, then the same login with code %d %q", c, first.code, first.extMsg, again.code, again.extMsg)
		}
	})
}
