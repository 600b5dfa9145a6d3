package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// Checkpoints copy what commits appended to the WAL into the database
// file, so that the WAL can start over. SQLite runs one by itself in the
// COMMIT that takes the WAL past wal_autocheckpoint frames (1,000 by
// default), on the writer's connection: that commit, and every Update
// waiting behind it, then also waits for a thousand pages to be written
// and the database file to be fsynced, which is what the slowest
// registrations waited for.
//
// So a goroutine of its own, on a connection of its own, runs a PASSIVE
// checkpoint shortly after commits, while the writer goes on (SQLite lets
// a checkpoint and a writer run at once). The writer keeps a checkpoint of
// its own, at checkpointBackstop frames: by then the goroutine has copied
// nearly all of them, and the writer's catches up the rest right after a
// commit, which is what lets the WAL start over at the next one. (A
// checkpoint only in the background could always be overtaken by the
// next commit, and the WAL would grow for as long as the load lasts.)
//
// Checkpoints change nothing about durability: the WAL already holds, and
// has fsynced, every acknowledged commit.
const (
	// checkpointPause spaces the goroutine's checkpoints, so that each
	// copies a few commits' pages (a page several of them changed is copied
	// once) rather than a handful after every commit. 100 ms rather than
	// 25: the checkpoints' CPU fell from 4.3 to 1.5 µs a registration, and
	// register ran at 10,024 and 9,988/s against 9,729 and 9,788/s, p99
	// unchanged at 7.8-8.1 ms (docs/performance.md, "Writes").
	checkpointPause = 100 * time.Millisecond
	// checkpointBackstop is the writer's wal_autocheckpoint, in pages.
	checkpointBackstop = 4000
)

type checkpointer struct {
	db   *sql.DB
	kick chan struct{} // a commit happened; buffered, never blocks the writer
	stop chan struct{}
	done chan struct{}
}

func newCheckpointer(db *sql.DB) *checkpointer {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// committed tells the checkpointer that the WAL grew.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	timer := time.NewTimer(0)
	<-timer.C
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		// An error (the file is gone, the disk is full) is the writer's
		// to meet and report; its own checkpoints remain.
		var busy, log, copied int
		_ = c.db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &copied)
		timer.Reset(checkpointPause)
		select {
		case <-c.stop:
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

// close stops the goroutine and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}
