package superapp

import (
	"context"

	"usercenter"
)

// checkUser answers whether the user exists: Data is true or false. An
// unknown user, or one of another app, is false; a disabled user is
// 200001.
func (a *api) checkUser() handler {
	return func(ctx context.Context, c *call) (any, error) {
		return a.svc.SuperAppCheckUser(ctx, c.actor, c.params.UserID)
	}
}

// getUserAvatar answers the URL of the user's avatar.
func (a *api) getUserAvatar() handler {
	return func(ctx context.Context, c *call) (any, error) {
		return a.svc.SuperAppAvatar(ctx, c.actor, c.params.UserID)
	}
}

// getUserNick answers the user's nickname.
func (a *api) getUserNick() handler {
	return func(ctx context.Context, c *call) (any, error) {
		return a.svc.SuperAppNickname(ctx, c.actor, c.params.UserID)
	}
}

// temporaryCode is the Data of getUserInfoTemporaryCode, its members in
// lower case as the platform documents them.
type temporaryCode struct {
	Code string `json:"code"`
	Data string `json:"data"` // the value masked, such as 136****6688
}

// getUserInfoTemporaryCode issues a one-time code for the phone number or
// email named by Type.
func (a *api) getUserInfoTemporaryCode() handler {
	return func(ctx context.Context, c *call) (any, error) {
		tc, err := a.svc.SuperAppIssueCode(ctx, c.actor, c.params.UserID, c.params.Type)
		if err != nil {
			return nil, err
		}
		return temporaryCode{Code: tc.Code, Data: tc.Masked}, nil
	}
}

// deliver spends a temporary code for field and answers the value
// encrypted in the app's cipher.
func (a *api) deliver(field usercenter.PIIField) handler {
	return func(ctx context.Context, c *call) (any, error) {
		return a.svc.SuperAppDeliver(ctx, c.actor, c.params.UserID, field, c.params.TemporaryCode)
	}
}
