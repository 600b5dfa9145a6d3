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

// FuzzLookupFilter holds lookupFilter, the parser's shortcut, to the
// general parser's reading of every filter it reads.
func FuzzLookupFilter(f *testing.F) {
	for _, s := range []string{
		`userName eq "bjensen"`, `USERNAME EQ "a b"`, `id eq "2Qf"`, `externalId eq "5d0c-1a3e"`,
		`userName eq ""`, `userName eq "a\"b"`, `userName  eq "a"`, `userName eq "a" `, `title eq "x"`,
		`emails.value eq "a@b.c"`, `userName eq "é"`, `userName eq "a" and active eq true`, `userName eq "\"`,
		`userName eq """`, `userName ne "a"`, `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast := lookupFilter(s)
		if fast == nil {
			return
		}
		tree, err := parseFilterTree(s)
		if err != nil {
			t.Fatalf("lookupFilter read %q, which the parser refuses: %v", s, err)
		}
		if *fast != *tree {
			t.Fatalf("%q: lookupFilter read %+v, the parser %+v", s, *fast, *tree)
		}
	})
}

// The shortcut reads the shape providers send, and leaves the rest to the
// parser: without it, a filter it reads would cost a parse.
func TestLookupFilterShape(t *testing.T) {
	for s, want := range map[string]*userFilter{
		`userName eq "bjensen@example.com"`:  {userName: "bjensen@example.com"},
		`USERNAME Eq "a b"`:                  {userName: "a b"},
		`externalId eq "00aa"`:               {externalID: "00aa"},
		`id eq "2QfV"`:                       {id: "2QfV"},
		`userName eq ""`:                     nil,
		`userName eq "a\"b"`:                 nil,
		`emails.value eq "a@b.c"`:            nil,
		`userName eq "a" and active eq true`: nil,
		`userName eq "é"`:                    nil,
	} {
		got := lookupFilter(s)
		if (got == nil) != (want == nil) || got != nil && *got != *want {
			t.Errorf("lookupFilter(%q) = %+v, want %+v", s, got, want)
		}
	}
}

// The filter every provider sends before a create, read by the shortcut
// and by the general parser.
func BenchmarkParseFilter(b *testing.B) {
	const s = `userName eq "bjensen@example.com"`
	b.Run("shortcut", func(b *testing.B) {
		for b.Loop() {
			if _, err := parseFilter(s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parser", func(b *testing.B) {
		for b.Loop() {
			if _, err := parseFilterTree(s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
