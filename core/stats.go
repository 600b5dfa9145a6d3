package core

import (
	"context"
	"slices"
	"time"

	"usercenter"
)

// StatsDays is how many days of sign-ups AppStats returns.
const StatsDays = 30

// AppStats are an app's user counts for an operator's dashboard.
type AppStats struct {
	App                     usercenter.App // without its SuperApp secret
	Total, Active, Disabled int
	// Days are the users created on each of the last StatsDays UTC days
	// (those not deleted since), oldest first, today last, days without
	// users included as 0.
	Days []DayCount
}

// VisibleApps lists the apps the actor may read users of or manage, by
// SdkAppId, without secrets.
func (s *Service) VisibleApps(ctx context.Context, actor *usercenter.Actor) ([]usercenter.App, error) {
	if !actor.ManagesApps {
		if err := actor.Require(usercenter.PermUsersRead); err != nil {
			return nil, err
		}
	}
	recs, err := s.store.Apps(ctx)
	if err != nil {
		return nil, err
	}
	var out []usercenter.App
	for _, r := range recs {
		if actor.Scoped(r.SdkAppID) {
			app := r.App
			app.SuperAppSecretKey = ""
			out = append(out, app)
		}
	}
	slices.SortFunc(out, func(a, b usercenter.App) int {
		switch {
		case a.SdkAppID < b.SdkAppID:
			return -1
		case a.SdkAppID > b.SdkAppID:
			return 1
		}
		return 0
	})
	return out, nil
}

// AppStats returns an app's user counts, from the counts the store keeps
// as users change: it reads a row per day the app has had users, never
// its users, so it costs the same at a million users as at ten. A
// disabled app has its counts too.
func (s *Service) AppStats(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64) (*AppStats, error) {
	if err := actor.Require(usercenter.PermUsersRead); err != nil {
		return nil, err
	}
	if !actor.Scoped(sdkAppID) {
		return nil, usercenter.NotFound(usercenter.ResourceApp)
	}
	rec, err := s.store.App(ctx, sdkAppID)
	if err != nil {
		return nil, err
	}
	today := s.now().UTC().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -(StatsDays - 1))
	st, err := s.store.UserStats(ctx, sdkAppID, first)
	if err != nil {
		return nil, err
	}
	out := &AppStats{App: rec.App, Active: st.Active, Disabled: st.Disabled, Total: st.Active + st.Disabled}
	out.App.SuperAppSecretKey = ""
	out.Days = make([]DayCount, StatsDays)
	for i := range out.Days {
		out.Days[i].Day = first.AddDate(0, 0, i)
	}
	for _, d := range st.Days {
		if i := int(d.Day.Sub(first) / (24 * time.Hour)); i >= 0 && i < StatsDays {
			out.Days[i].Created += d.Created
		}
	}
	return out, nil
}

// LiveTokens counts a user's login tokens that have not expired, for an
// operator deciding whether to revoke them.
func (s *Service) LiveTokens(ctx context.Context, actor *usercenter.Actor, userID string) (int, error) {
	rec, _, err := s.userFor(ctx, s.store, actor, userID, usercenter.PermUsersRead)
	if err != nil {
		return 0, err
	}
	return s.store.LiveTokens(ctx, rec.ID, s.now())
}
