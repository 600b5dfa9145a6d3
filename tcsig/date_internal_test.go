package tcsig

import (
	"testing"
	"time"
)

// TestQuickDate checks the fast path of parseDate against time.Parse.
func TestQuickDate(t *testing.T) {
	for _, s := range []string{
		"2026-11-22", "2024-02-29", "2023-02-29", "2026-02-30", "2026-13-01", "2026-00-10", "2026-01-00",
		"0000-01-01", "9999-12-31", "2026-1-22", "2026-11-2 ", "2026/11/22", "+026-11-22", "2026-11-22T", "",
		"2026-04-31", "2026-06-30", "2026-12-31",
	} {
		want, werr := time.Parse(dateLayout, s)
		if werr == nil && want.Format(dateLayout) != s {
			werr = &time.ParseError{}
		}
		got, ok := quickDate(s)
		if ok && (werr != nil || !got.Equal(want)) {
			t.Errorf("quickDate(%q) = %v, time.Parse: %v, %v", s, got, want, werr)
		}
		if !ok && werr == nil {
			t.Errorf("quickDate(%q) refused a date time.Parse reads", s)
		}
	}
}
