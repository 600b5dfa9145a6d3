package core

import (
	"context"
	"time"
)

// purge is one kind of short-lived rows that expire, with how to delete
// the expired ones.
type purge struct {
	what string
	run  func(context.Context) (int, error)
}

// purges are the kinds of short-lived rows that expire, events last.
func (s *Service) purges() []purge {
	return []purge{
		{"login tokens", s.purgeTokens},
		{"temporary codes", s.PurgeCodes},
		{"enterprise tokens", s.DeleteExpiredEnterpriseTokens},
		{"events", s.PurgeEvents}, // past their retention
	}
}

func (s *Service) purgeTokens(ctx context.Context) (int, error) {
	return s.deleteExpired(ctx, Tx.DeleteExpiredTokens)
}

// deleteExpired runs del, one of the Tx's DeleteExpired… methods, in an
// Update of its own with the current time, and reports how many rows it
// removed.
func (s *Service) deleteExpired(ctx context.Context, del func(Tx, context.Context, time.Time) (int, error)) (int, error) {
	var n int
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		n, err = del(tx, ctx, s.now().UTC())
		return err
	})
	return n, err
}

// PurgeExpired deletes expired login tokens, temporary codes and
// enterprise access tokens, and events past their retention, every
// interval until ctx ends. Expired rows are refused on use anyway;
// purging keeps the tables small.
func (s *Service) PurgeExpired(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, p := range s.purges() {
			n, err := p.run(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Error("purging expired "+p.what, "err", err)
			} else if n > 0 {
				s.log.Info("purged expired "+p.what, "count", n)
			}
		}
	}
}
