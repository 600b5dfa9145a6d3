package usercenter

import (
	"slices"
	"testing"
)

func TestEventTypesMatching(t *testing.T) {
	for _, c := range []struct {
		pattern string
		want    []EventType
	}{
		{"user.created", []EventType{EventUserCreated}},
		{"user.tokens_revoked", []EventType{EventUserTokensRevoked}},
		{"user.*", []EventType{EventUserCreated, EventUserUpdated, EventUserDeleted, EventUserStatusChanged, EventUserTokensRevoked}},
		{"key.*", []EventType{EventKeyCreated, EventKeyRevoked}},
		{"master_key.*", []EventType{EventMasterKeyRotated}},
		// Only whole types, or prefixes that end at a dot.
		{"user", nil},
		{"user.", nil},
		{"user.created.*", nil},
		{"user.tokens_*", nil},
		{"*", EventTypes},
		{".*", nil},
		{"", nil},
		{"User.created", nil},
	} {
		if got := EventTypesMatching(c.pattern); !slices.Equal(got, c.want) {
			t.Errorf("EventTypesMatching(%q) = %v, want %v", c.pattern, got, c.want)
		}
	}
	for _, typ := range EventTypes {
		if !typ.Valid() {
			t.Errorf("%s is not Valid", typ)
		}
	}
	if EventType("user.nope").Valid() {
		t.Error("an unknown type is Valid")
	}
}
