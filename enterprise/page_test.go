package enterprise

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestPageInfoArithmetic checks newPageInfo against values worked out by
// hand from PageHelper 5's PageInfo(Page, navigatePages=8).
func TestPageInfoArithmetic(t *testing.T) {
	type want struct {
		pages, size                 int
		startRow, endRow            int64
		nav                         []int
		pre, next                   int
		first, last, hasPre, hasNxt bool
	}
	for _, c := range []struct {
		page, pageSize int
		total          int64
		want           want
	}{
		{1, 10, 0, want{0, 0, 0, 0, []int{}, 0, 0, true, true, false, false}},
		{2, 10, 0, want{0, 0, 0, 0, []int{}, 0, 0, false, true, true, false}},
		{1, 10, 1, want{1, 1, 1, 1, []int{1}, 0, 0, true, true, false, false}},
		{1, 10, 10, want{1, 10, 1, 10, []int{1}, 0, 0, true, true, false, false}},
		{1, 10, 11, want{2, 10, 1, 10, []int{1, 2}, 0, 2, true, false, false, true}},
		{2, 10, 11, want{2, 1, 11, 11, []int{1, 2}, 1, 0, false, true, true, false}},
		{3, 10, 11, want{2, 0, 0, 0, []int{1, 2}, 2, 0, false, false, true, false}},
		{1, 10, 80, want{8, 10, 1, 10, []int{1, 2, 3, 4, 5, 6, 7, 8}, 0, 2, true, false, false, true}},
		{5, 10, 90, want{9, 10, 41, 50, []int{1, 2, 3, 4, 5, 6, 7, 8}, 4, 6, false, false, true, true}},
		{6, 10, 90, want{9, 10, 51, 60, []int{2, 3, 4, 5, 6, 7, 8, 9}, 5, 7, false, false, true, true}},
		{9, 10, 90, want{9, 10, 81, 90, []int{2, 3, 4, 5, 6, 7, 8, 9}, 8, 0, false, true, true, false}},
		{50, 10, 1000, want{100, 10, 491, 500, []int{46, 47, 48, 49, 50, 51, 52, 53}, 49, 51, false, false, true, true}},
		{97, 10, 1000, want{100, 10, 961, 970, []int{93, 94, 95, 96, 97, 98, 99, 100}, 96, 98, false, false, true, true}},
		{96, 10, 1000, want{100, 10, 951, 960, []int{92, 93, 94, 95, 96, 97, 98, 99}, 95, 97, false, false, true, true}},
		{200, 10, 1000, want{100, 0, 0, 0, []int{93, 94, 95, 96, 97, 98, 99, 100}, 199, 0, false, false, true, false}},
	} {
		name := strconv.Itoa(c.page) + "/" + strconv.Itoa(c.pageSize) + "/" + strconv.FormatInt(c.total, 10)
		n := c.want.size
		p := newPageInfo(c.page, c.pageSize, c.total, make([]int, n))
		got := want{p.Pages, p.Size, p.StartRow, p.EndRow, p.NavigatepageNums, p.PrePage, p.NextPage, p.IsFirstPage, p.IsLastPage, p.HasPreviousPage, p.HasNextPage}
		if got.pages != c.want.pages || got.size != c.want.size || got.startRow != c.want.startRow || got.endRow != c.want.endRow ||
			!slices.Equal(got.nav, c.want.nav) || got.pre != c.want.pre || got.next != c.want.next ||
			got.first != c.want.first || got.last != c.want.last || got.hasPre != c.want.hasPre || got.hasNxt != c.want.hasNxt {
			t.Errorf("%s:\n got  %+v\n want %+v", name, got, c.want)
		}
		if len(p.NavigatepageNums) > 0 && (p.NavigateFirstPage != p.NavigatepageNums[0] || p.NavigateLastPage != p.NavigatepageNums[len(p.NavigatepageNums)-1]) {
			t.Errorf("%s: navigate %d..%d", name, p.NavigateFirstPage, p.NavigateLastPage)
		}
		if p.NavigatePages != 8 || p.PageNum != c.page || p.PageSize != c.pageSize || p.Total != c.total || p.List == nil {
			t.Errorf("%s: %+v", name, p)
		}
	}
}

// TestCodesDocumented keeps docs/enterprise.md in step with the codes the
// API answers with.
func TestCodesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/enterprise.md")
	if err != nil {
		t.Fatal(err)
	}
	for code, msg := range messages {
		row := "| `" + strconv.Itoa(code) + "` | " + msg + " |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/enterprise.md lacks the row %q", row)
		}
	}
	for _, rt := range (&api{}).routes() {
		if !strings.Contains(string(doc), rt.path) {
			t.Errorf("docs/enterprise.md does not document %s", rt.path)
		}
	}
}
