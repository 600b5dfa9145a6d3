package restapi

import (
	"context"
	"testing"

	"usercenter"
)

// A commit whose outcome is unknown because the client hung up is still
// unavailable, logged with the whole domain error: obs must not take it
// for a mere cancellation. Without a cause there is nothing to log.
func TestFromDomainUnavailableCause(t *testing.T) {
	p := fromDomain(&usercenter.Error{Code: usercenter.EUnavailable, Message: "the outcome is unknown", Err: context.Canceled})
	if p.Code != "unavailable" || p.cause == nil || usercenter.Canceled(p.cause) {
		t.Errorf("fromDomain(unknown outcome) = %+v, want unavailable with a cause that is no cancellation", p)
	}
	if p := fromDomain(&usercenter.Error{Code: usercenter.EUnavailable, Message: "the store is closed"}); p.Code != "unavailable" || p.cause != nil {
		t.Errorf("fromDomain(closed) = %+v, want unavailable without a cause", p)
	}
}
