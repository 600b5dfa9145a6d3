package enterprise_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"usercenter"
	"usercenter/uctest"
)

func TestDomainUserListThousands(t *testing.T) {
	env := uctest.New(t)
	const n = 1234
	manyUsers(t, env, env.App.SdkAppID, n)
	tok := login(t, env, env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead))

	res := get(t, env, pathDomainUserList+"?userDomain="+env.App.UserDomain, tok).want(t, 200, "OK")
	sameSet(t, "answer", keysOf(t, res.Body), []string{"code", "data", "msg", "extMsg"})
	sameSet(t, "data", keysOf(t, res.m["data"]), pageInfoFields)
	var raw struct{ List []map[string]any }
	res.field(t, "data", &raw)
	for _, u := range raw.List {
		var names []string
		for k := range u {
			names = append(names, k)
		}
		sameSet(t, "user", names, seedUserFields)
	}
	// Defaults: page 1 of 10.
	p := userList(t, env, tok, env.App.UserDomain, 0, 0)
	if p.PageNum != 1 || p.PageSize != 10 || p.Size != 10 || p.Total != n || p.Pages != 124 || p.NavigatePages != 8 ||
		!slices.Equal(p.NavigatepageNums, []int{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Fatalf("default page %+v", p)
	}

	// Every page of 100: every user once, in creation order, and the
	// page arithmetic consistent throughout.
	seen := map[string]bool{}
	var order []userJSON
	for page := 1; ; page++ {
		p := userList(t, env, tok, env.App.UserDomain, page, 100)
		wantSize := min(100, n-(page-1)*100)
		if p.Total != n || p.Pages != 13 || p.PageNum != page || p.PageSize != 100 || p.Size != wantSize || len(p.List) != wantSize {
			t.Fatalf("page %d: %+v", page, summary(p))
		}
		if p.StartRow != int64((page-1)*100+1) || p.EndRow != p.StartRow+int64(wantSize)-1 {
			t.Fatalf("page %d rows %d..%d", page, p.StartRow, p.EndRow)
		}
		nav := p.NavigatepageNums
		if len(nav) != 8 || !slices.Contains(nav, page) || nav[0] < 1 || nav[7] > 13 || nav[7]-nav[0] != 7 ||
			p.NavigateFirstPage != nav[0] || p.NavigateLastPage != nav[7] {
			t.Fatalf("page %d: navigation %v (%d..%d)", page, nav, p.NavigateFirstPage, p.NavigateLastPage)
		}
		if p.IsFirstPage != (page == 1) || p.HasPreviousPage != (page > 1) || p.IsLastPage != (page == 13) || p.HasNextPage != (page < 13) {
			t.Fatalf("page %d flags %+v", page, summary(p))
		}
		if (page > 1 && p.PrePage != page-1) || (page == 1 && p.PrePage != 0) || (page < 13 && p.NextPage != page+1) || (page == 13 && p.NextPage != 0) {
			t.Fatalf("page %d: prePage %d nextPage %d", page, p.PrePage, p.NextPage)
		}
		for _, u := range p.List {
			if seen[u.UID] || u.UserDomain != env.App.UserDomain {
				t.Fatalf("page %d: user %+v listed twice or from elsewhere", page, u)
			}
			seen[u.UID] = true
			order = append(order, u)
		}
		if p.IsLastPage {
			break
		}
	}
	if len(seen) != n {
		t.Fatalf("%d users listed, want %d", len(seen), n)
	}
	// Creation order; users created in the same instant by UserId.
	for i := 1; i < len(order); i++ {
		a, b := order[i-1], order[i]
		if a.RegisterTime > b.RegisterTime || a.RegisterTime == b.RegisterTime && a.UID >= b.UID {
			t.Fatalf("users %d and %d of the listing are out of creation order: %+v, %+v", i-1, i, a, b)
		}
	}
	// Known windows of page links.
	for page, want := range map[int][]int{
		1: {1, 2, 3, 4, 5, 6, 7, 8}, 4: {1, 2, 3, 4, 5, 6, 7, 8}, 5: {1, 2, 3, 4, 5, 6, 7, 8},
		6: {2, 3, 4, 5, 6, 7, 8, 9}, 9: {5, 6, 7, 8, 9, 10, 11, 12}, 10: {6, 7, 8, 9, 10, 11, 12, 13}, 13: {6, 7, 8, 9, 10, 11, 12, 13},
	} {
		if got := userList(t, env, tok, env.App.UserDomain, page, 100).NavigatepageNums; !slices.Equal(got, want) {
			t.Errorf("page %d: navigatepageNums %v, want %v", page, got, want)
		}
	}
	// Past the end, as PageHelper answers it.
	p = userList(t, env, tok, env.App.UserDomain, 14, 100)
	if p.Size != 0 || len(p.List) != 0 || p.List == nil || p.StartRow != 0 || p.EndRow != 0 || p.Total != n || p.Pages != 13 ||
		p.PrePage != 13 || p.NextPage != 0 || p.IsFirstPage || p.IsLastPage || p.HasNextPage || !p.HasPreviousPage ||
		!slices.Equal(p.NavigatepageNums, []int{6, 7, 8, 9, 10, 11, 12, 13}) {
		t.Fatalf("page past the end %+v", summary(p))
	}
	p = userList(t, env, tok, env.App.UserDomain, 2147483647, 100)
	if p.Size != 0 || p.Total != n || p.PageNum != 2147483647 {
		t.Fatalf("the last int32 page %+v", summary(p))
	}
	// pageSize is capped at 100.
	for _, size := range []string{"101", "1000", "2147483648", "99999999999999999999999999"} {
		var p pageJSON[userJSON]
		get(t, env, pathDomainUserList+"?userDomain="+env.App.UserDomain+"&pageSize="+size, tok).want(t, 200, "OK").field(t, "data", &p)
		if p.PageSize != 100 || p.Size != 100 || p.Pages != 13 {
			t.Fatalf("pageSize %s: %+v", size, summary(p))
		}
	}
}

// summary is a page without its list, for messages.
func summary[T any](p pageJSON[T]) pageJSON[T] {
	p.List = nil
	return p
}

func TestDomainUserListBoundaries(t *testing.T) {
	env := uctest.New(t)
	manyUsers(t, env, env.App.SdkAppID, 20)
	empty, _ := env.NewApp(t, "empty", 1000)
	tok := login(t, env, env.NewKey(t, []uint64{env.App.SdkAppID, empty.SdkAppID}, usercenter.PermUsersRead))
	d := env.App.UserDomain

	for _, c := range []struct {
		page, size                  int
		pages, count                int
		first, last, hasPrev, hasNx bool
		pre, next                   int
	}{
		{1, 10, 2, 10, true, false, false, true, 0, 2},
		{2, 10, 2, 10, false, true, true, false, 1, 0}, // an exact multiple: the second page is the last
		{3, 10, 2, 0, false, false, true, false, 2, 0}, // past the end
		{1, 20, 1, 20, true, true, false, false, 0, 0},
		{1, 21, 1, 20, true, true, false, false, 0, 0},
		{3, 7, 3, 6, false, true, true, false, 2, 0}, // a short last page
		{20, 1, 20, 1, false, true, true, false, 19, 0},
		{1, 1, 20, 1, true, false, false, true, 0, 2},
	} {
		p := userList(t, env, tok, d, c.page, c.size)
		if p.Pages != c.pages || p.Size != c.count || len(p.List) != c.count || p.IsFirstPage != c.first || p.IsLastPage != c.last ||
			p.HasPreviousPage != c.hasPrev || p.HasNextPage != c.hasNx || p.PrePage != c.pre || p.NextPage != c.next || p.Total != 20 {
			t.Errorf("page %d of %d: %+v", c.page, c.size, summary(p))
		}
	}

	// An empty domain.
	p := userList(t, env, tok, empty.UserDomain, 0, 0)
	if p.Total != 0 || p.Pages != 0 || p.Size != 0 || p.List == nil || len(p.List) != 0 || p.NavigatepageNums == nil || len(p.NavigatepageNums) != 0 ||
		!p.IsFirstPage || !p.IsLastPage || p.HasNextPage || p.HasPreviousPage || p.PrePage != 0 || p.NextPage != 0 ||
		p.NavigateFirstPage != 0 || p.NavigateLastPage != 0 || p.StartRow != 0 || p.EndRow != 0 || p.PageNum != 1 || p.PageSize != 10 || p.NavigatePages != 8 {
		t.Fatalf("empty domain %+v", p)
	}
	res := get(t, env, pathDomainUserList+"?userDomain="+empty.UserDomain, tok)
	if !strings.Contains(string(res.Body), `"list":[]`) || !strings.Contains(string(res.Body), `"navigatepageNums":[]`) {
		t.Fatalf("empty lists must be [], not null: %s", res.Body)
	}

	// Codes.
	writer := login(t, env, env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersWrite))
	unknown := get(t, env, pathDomainUserList+"?userDomain=no-such-domain", tok).want(t, 5015, "User domain does not exist")
	for _, dom := range []string{"NO-SUCH", strings.Repeat("d", 65), "a b", "名字", "%"} {
		res := get(t, env, pathDomainUserList+"?userDomain="+url.QueryEscape(dom), tok).want(t, 5015, "")
		if string(res.Body) != string(unknown.Body) {
			t.Fatalf("domain %q: %s", dom, res.Body)
		}
	}
	get(t, env, pathDomainUserList, tok).want(t, 5023, "Please enter user domain")
	get(t, env, pathDomainUserList+"?userDomain=", tok).want(t, 5023, "")
	get(t, env, pathDomainUserList+"?userDomain="+d, writer).want(t, 5041, "No permission")
	get(t, env, pathDomainUserList+"?userDomain="+d, "").want(t, 5106, "")
	get(t, env, pathDomainUserList+"?userDomain="+d, "QJWT x").want(t, 5032, "")
}
