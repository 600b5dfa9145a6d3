package scim

import (
	"errors"
	"net/http"
	"testing"

	"usercenter"
	"usercenter/uctest/spelltest"
)

// TestFieldSpelling checks this facade's one table of attribute names.
func TestFieldSpelling(t *testing.T) { spelltest.Check(t, fields) }

// TestDomainCodes checks that every domain code maps to a SCIM error, and
// only EInternal to a 500.
func TestDomainCodes(t *testing.T) {
	spelltest.Codes(t, func(e *usercenter.Error) bool {
		s := fromDomain(e)
		if s.Status < 400 || s.Detail == "" {
			t.Errorf("%s: %+v", e.Code, s)
		}
		return s.Status == http.StatusInternalServerError
	})
	if s := fromDomain(usercenter.Invalid(usercenter.FieldOriginID, "must be x")); s.Type != typeInvalidValue || s.Detail != "userName must be x" {
		t.Errorf("an invalid userName: %+v", s)
	}
	if s := fromDomain(&usercenter.Error{Code: usercenter.EConflict, Field: usercenter.FieldOriginID, Message: "is taken"}); s.Status != http.StatusConflict || s.Type != typeUniqueness {
		t.Errorf("a conflict: %+v", s)
	}
}

// FuzzParseFilter: whatever the filter, parseFilter answers a filter with
// at most one lookup and something to select by, or an invalidFilter
// error (invalidValue for a lastModified that is not a dateTime), and
// never panics.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		`userName eq "bjensen"`, `id eq "x" and active eq true`, `emails.value eq "a@b.c"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, `emails[type eq "work" and value co "@x"]`,
		`not (userName eq "a")`, `meta.lastModified gt "2011-05-13T04:42:34Z"`, `userName eq`, `((`, `"`, `a eq 1e999`,
		`userName eq "a" or userName eq "b"`, `active eq true`, `title pr`,
		`meta.lastModified ge "2026-01-01T00:00:00Z" and META.LASTMODIFIED lt "2026-02-01T00:00:00.5+01:00" and active eq false`,
		`meta.lastModified gt "yesterday"`, `meta.lastModified gt 5`, `meta.lastModified eq "2026-01-01T00:00:00Z"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseFilter(s)
		if err != nil {
			var se *scimError
			if !errors.As(err, &se) || se.Status != http.StatusBadRequest || se.Type != typeInvalidFilter && se.Type != typeInvalidValue || se.Detail == "" {
				t.Fatalf("parseFilter(%q): %v", s, err)
			}
			return
		}
		if n := got.lookups(); n > 1 || n == 0 && got.active == nil && !got.byModification() {
			t.Fatalf("parseFilter(%q) = %+v: want at most one lookup, and something to select by", s, got)
		}
	})
}
