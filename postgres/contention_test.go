package postgres_test

import (
	"strconv"
	"sync"
	"testing"

	"usercenter/core"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
)

// Every Update reads and rewrites one row: at SERIALIZABLE all but one of
// each round of concurrent transactions lose. Each must still succeed in
// the end, as under SQLite's single writer, and none may be lost.
func TestHotRowContention(t *testing.T) {
	s, err := postgres.Open(ctx, pgtest.DSN(t), postgres.Options{MaxConns: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			errs <- s.Update(ctx, func(tx core.Tx) error {
				v, err := tx.Meta(ctx, "counter")
				if err != nil {
					return err
				}
				c, _ := strconv.Atoi(string(v))
				return tx.SetMeta(ctx, "counter", []byte(strconv.Itoa(c+1)))
			})
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
			t.Log(err)
		}
	}
	v, err := s.Meta(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	if failed != 0 || string(v) != strconv.Itoa(n) {
		t.Fatalf("%d of %d Updates failed; counter %s", failed, n, v)
	}
}
