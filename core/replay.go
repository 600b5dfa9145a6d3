package core

import (
	"context"
	"errors"
	"time"
)

// ReplayMemory remembers signed requests for a fixed window (the span of
// timestamps a request is accepted with), so that none is accepted twice.
// Each tenant (an API key's SecretId) has its own share: a tenant that
// fills its share is refused, and no other tenant is affected.
type ReplayMemory interface {
	// Seen records key, a request signed at signedAt, in tenant's share
	// and reports whether it was already recorded within the window. It
	// never forgets a key inside the window. It fails with an error
	// wrapping ErrReplayFull when tenant's share is full (recording
	// nothing), and with one wrapping ErrReplayBefore when signedAt is
	// earlier than the memory's first record (as after a restart, when the
	// memory cannot know what it saw before).
	Seen(ctx context.Context, tenant, key string, signedAt, now time.Time) (bool, error)
}

var (
	ErrReplayFull   = errors.New("the replay memory share of this key is full")
	ErrReplayBefore = errors.New("the request was signed before the replay memory began")
)
