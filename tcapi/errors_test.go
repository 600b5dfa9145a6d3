package tcapi

import (
	"context"
	"errors"
	"testing"

	"usercenter"
	"usercenter/tcsig"
)

// fromSignature is the one mapping of signature failures to codes.
func TestFromSignature(t *testing.T) {
	for k, want := range map[tcsig.ErrorKind]string{
		tcsig.InvalidAuthorization: "AuthFailure.InvalidAuthorization",
		tcsig.MissingParameter:     "MissingParameter",
		tcsig.InvalidParameter:     "InvalidParameter",
		tcsig.SignatureExpire:      "AuthFailure.SignatureExpire",
		tcsig.SignatureFailure:     "AuthFailure.SignatureFailure",
	} {
		if got := fromSignature(&tcsig.Error{Kind: k, Msg: "m"}); got.Code != want || got.cause != nil {
			t.Errorf("fromSignature(%v) = %+v, want %s", k, got, want)
		}
	}
	if got := fromSignature(errors.New("boom")); got.Code != "InternalError" || got.cause == nil {
		t.Errorf("fromSignature(a foreign error) = %+v, want InternalError with its cause", got)
	}
}

// An unavailable store is the caller's to retry, not an internal error.
func TestFromDomainUnavailable(t *testing.T) {
	ae := fromDomain(&usercenter.Error{Code: usercenter.EUnavailable, Message: "the store is closed"})
	if ae.Code != "ServiceUnavailable" || ae.cause != nil {
		t.Fatalf("fromDomain(EUnavailable) = %+v, want ServiceUnavailable without a cause", ae)
	}
	if got := ae.text("en-US"); got != "Service is unavailable now." {
		t.Errorf("en-US text = %q", got)
	}
	if got := ae.text("zh-CN"); got != "当前服务暂时不可用。" {
		t.Errorf("zh-CN text = %q", got)
	}
}

// A commit whose outcome is unknown because the client hung up is still
// ServiceUnavailable, logged with the whole domain error: obs must not take
// it for a mere cancellation.
func TestFromDomainUnknownOutcome(t *testing.T) {
	ae := fromDomain(&usercenter.Error{Code: usercenter.EUnavailable, Message: "the outcome is unknown", Err: context.Canceled})
	if ae.Code != "ServiceUnavailable" || ae.cause == nil || usercenter.Canceled(ae.cause) {
		t.Fatalf("fromDomain(unknown outcome) = %+v, want ServiceUnavailable with a cause that is no cancellation", ae)
	}
}
