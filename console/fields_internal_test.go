package console

import (
	"errors"
	"net/http"
	"testing"

	"usercenter"
	"usercenter/uctest/spelltest"
)

func TestFieldNames(t *testing.T) { spelltest.Check(t, fields) }

func TestFromDomainCodes(t *testing.T) {
	spelltest.Codes(t, func(e *usercenter.Error) bool {
		status, _ := fromDomain(e)
		return status == http.StatusInternalServerError
	})
	_, msg := fromDomain(errors.New("disk on fire: /secret/path"))
	if msg == "" || msg == "disk on fire: /secret/path" {
		t.Errorf("an internal error shows %q", msg)
	}
	status, msg := fromDomain(usercenter.Invalid(usercenter.FieldPassword, "must be long"))
	if status != http.StatusBadRequest || msg != "Password must be long" {
		t.Errorf("an invalid password: %d %q", status, msg)
	}
}
