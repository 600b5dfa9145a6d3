package core

import (
	"context"

	"usercenter"
)

// UserProfile returns one user the actor may read, as GetUser does with
// nothing revealed, but without their personal data: Phone, Email and
// Address are empty rather than masked. It is for callers that show none
// of the three, such as LCIC's user actions, and saves opening three
// sealed values and masking them on every such read.
func (s *Service) UserProfile(ctx context.Context, actor *usercenter.Actor, userID string) (*usercenter.User, error) {
	rec, app, err := s.userFor(ctx, s.store, actor, userID, usercenter.PermUsersRead)
	if err != nil {
		return nil, err
	}
	u := rec.User
	u.Phone, u.Email, u.Address = "", "", ""
	u.UserDomain = app.UserDomain
	return &u, nil
}
