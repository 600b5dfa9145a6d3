package postgres_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
)

// TestOpenUnreachable opens a store on a closed port: Open fails within
// its ctx, with EUnavailable.
func TestOpenUnreachable(t *testing.T) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := postgres.Open(cctx, "postgres://u:p@127.0.0.1:1/db?sslmode=disable", postgres.Options{ConnectTimeout: 2 * time.Second})
	if err == nil {
		s.Close()
		t.Fatal("Open of a closed port succeeded")
	}
	if cctx.Err() != nil {
		t.Fatalf("Open took until its ctx ended: %v", err)
	}
	wantErr(t, err, usercenter.EUnavailable, "")

	if _, err := postgres.Open(ctx, "postgres://u:secret@127.0.0.1:5432/db?sslmode=bogus", postgres.Options{}); err == nil {
		t.Fatal("Open accepted an invalid DSN")
	} else if strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "sslmode") {
		t.Fatalf("the error of an invalid DSN must say what is wrong without the password: %v", err)
	}
}

// TestDatabaseGoesAway runs a store through a proxy and then cuts it, as
// if the database had died: every call fails promptly with EUnavailable,
// whether it meets a broken pooled connection or fails to open a new one.
func TestDatabaseGoesAway(t *testing.T) {
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Skipf("%s is not a URL: %v", pgtest.EnvVar, err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr()
	s, err := postgres.Open(ctx, u.String(), postgres.Options{ConnectTimeout: 2 * time.Second, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addApps(t, s, 1)
	// Fill the pool with idle connections, which the cut then breaks.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s.Update(ctx, func(tx core.Tx) error { _, err := tx.App(ctx, 1); time.Sleep(50 * time.Millisecond); return err })
		})
	}
	wg.Wait()

	p.cut()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for i := range 6 { // more calls than pooled connections
		wantErr(t, s.Ping(cctx), usercenter.EUnavailable, "")
		_, err := s.App(cctx, 1)
		wantErr(t, err, usercenter.EUnavailable, "")
		_, _, err = s.ListUsers(cctx, 1, 0, 10)
		wantErr(t, err, usercenter.EUnavailable, "")
		err = s.Update(cctx, func(tx core.Tx) error { return tx.SetMeta(ctx, "k", []byte{byte(i)}) })
		wantErr(t, err, usercenter.EUnavailable, "")
		_, err = s.TryLock(cctx, false)
		wantErr(t, err, usercenter.EUnavailable, "")
	}
	if cctx.Err() != nil {
		t.Fatal("calls waited for their ctx to end")
	}

	// When the database is back, so is the store.
	p.resume()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after the database came back: %v", err)
	}
	update(t, s, func(tx core.Tx) error { return tx.SetMeta(ctx, "k", []byte("back")) })
}

// proxy forwards TCP connections to a database until cut.
type proxy struct {
	t      *testing.T
	target string

	mu    sync.Mutex
	ln    net.Listener
	port  string
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) addr() string { return "127.0.0.1:" + p.port }

func (p *proxy) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	_, p.port, _ = net.SplitHostPort(ln.Addr().String())
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { io.Copy(d, c); d.Close() }()
			go func() { io.Copy(c, d); c.Close() }()
		}
	}()
}

// cut stops listening and breaks every connection.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// resume listens again on the same port.
func (p *proxy) resume() {
	p.listen(p.addr())
}
