package usercenter

import (
	"errors"
	"testing"
)

// TestFieldsAreDistinct guards the list the facades' table tests walk:
// a field listed twice, or a value two fields share, would let a facade
// spell two fields one way.
func TestFieldsAreDistinct(t *testing.T) {
	seen := map[Field]bool{}
	for _, f := range Fields {
		if f == "" || seen[f] {
			t.Errorf("field %q is empty or listed twice", f)
		}
		seen[f] = true
	}
}

func TestSpellingSpell(t *testing.T) {
	s := Spelling{FieldOriginID: "OriginId", FieldThirdParty: "ThirdPartyIds"}
	for _, c := range []struct {
		f    Field
		want string
		ok   bool
	}{
		{FieldOriginID, "OriginId", true},
		{ThirdPartyField(ProviderQQ), "ThirdPartyIds.qq", true},
		{FieldNickname, "", false},        // not in the table: never passed through
		{Field("originId.qq"), "", false}, // a provider only after thirdPartyIds
		{Field("thirdPartyIds.myspace"), "ThirdPartyIds.myspace", true},
	} {
		got, ok := s.Spell(c.f)
		if got != c.want || ok != c.ok {
			t.Errorf("Spell(%q) = %q, %v; want %q, %v", c.f, got, ok, c.want, c.ok)
		}
	}
}

func TestErrorDescribe(t *testing.T) {
	s := Spelling{FieldOriginID: "OriginId"}
	if got := Invalid(FieldOriginID, "must be at most %d bytes", 128).Describe(s); got != "OriginId must be at most 128 bytes" {
		t.Errorf("Describe = %q", got)
	}
	if got := Invalid(FieldNickname, "must not be empty").Describe(s); got != "the value must not be empty" {
		t.Errorf("an unknown field: Describe = %q, want it unnamed", got)
	}
	if got := Forbidden("no").Describe(s); got != "no" {
		t.Errorf("a sentence: Describe = %q", got)
	}
}

func TestAtItem(t *testing.T) {
	err := AtItem(3, Invalid(FieldOriginID, "must not be empty"))
	e := ErrorOf(err)
	if i, ok := e.ItemIndex(); !ok || i != 3 || e.Field != FieldOriginID {
		t.Errorf("AtItem(3, …): item %d %v field %q", i, ok, e.Field)
	}
	if _, ok := Invalid(FieldOriginID, "x").ItemIndex(); ok {
		t.Error("an error about no item has an item")
	}
	plain := errors.New("disk on fire")
	if AtItem(1, plain) != plain {
		t.Error("AtItem changed a non-domain error")
	}
	nf := NotFound(ResourceUser)
	if AtItem(1, nf) != error(nf) {
		t.Error("AtItem placed a not-found error at an item")
	}
}
