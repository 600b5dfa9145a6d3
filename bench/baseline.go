package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	_ "modernc.org/sqlite" // the driver the store uses

	"usercenter/server"
)

// The static document is 200 bytes of JSON; the lookup table's rows have
// the columns of lookupRow, which its handler encodes as JSON of about the
// same size.
const (
	docPrefix = `{"id":`
	docMiddle = `,"name":"baseline row","data":"`
	docSuffix = `"}`
	docIDLen  = 12
	docSize   = 200
)

var docPad = strings.Repeat("x", docSize-len(docPrefix)-docIDLen-len(docMiddle)-len(docSuffix))

var staticDoc = []byte(docPrefix + strings.Repeat("0", docIDLen) + docMiddle + docPad + docSuffix)

// lookupRow is a row of the lookup baseline's table, as its handler
// answers it.
type lookupRow struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Data      string `json:"data"`
	CreatedAt int64  `json:"createdAt"`
}

// baselineServer serves the two baseline handlers on loopback, through the
// same http.Server configuration as `usercenter serve`.
type baselineServer struct {
	base *url.URL
	srv  *http.Server
	db   *sql.DB
	stmt *sql.Stmt
	rows int
	dir  string
	done chan error
}

// lookupData is every row's data column: the rows' JSON is about 200
// bytes, as the static document is.
var lookupData = strings.Repeat("x", 128)

// startBaseline builds a table of rows rows in a temporary
// SQLite database and starts serving on a loopback port of its own.
func startBaseline(ctx context.Context, rows int, tempDir string) (*baselineServer, error) {
	return startBaselineOn(ctx, "127.0.0.1:0", rows, tempDir, false)
}

// startBaselineOn serves the baselines at addr; with metrics, also
// GET /metrics with the process's CPU time and resident set, as `serve`
// exports them, for a load generator in another process to read.
func startBaselineOn(ctx context.Context, addr string, rows int, tempDir string, metrics bool) (*baselineServer, error) {
	dir, err := os.MkdirTemp(tempDir, "usercenter-bench-baseline-")
	if err != nil {
		return nil, err
	}
	b := &baselineServer{rows: rows, dir: dir}
	if err := b.build(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /static", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(staticDoc)
	})
	// What a minimal real handler does: read the row's columns, encode
	// them as JSON.
	mux.HandleFunc("GET /lookup/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		var row lookupRow
		switch err := b.stmt.QueryRowContext(r.Context(), id).Scan(&row.ID, &row.Name, &row.Data, &row.CreatedAt); {
		case errors.Is(err, sql.ErrNoRows):
			http.Error(w, "no such row", http.StatusNotFound)
			return
		case err != nil:
			http.Error(w, "lookup failed", http.StatusInternalServerError)
			return
		}
		body, err := json.Marshal(&row)
		if err != nil {
			http.Error(w, "encoding failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	if metrics {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		b.closeDB()
		return nil, err
	}
	b.base = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	b.srv = server.NewHTTPServer(ln.Addr().String(), mux)
	b.done = make(chan error, 1)
	go func() { b.done <- b.srv.Serve(ln) }()
	return b, nil
}

// build writes the table with a writer connection, then opens it the way
// the SQLite store opens its reads: WAL, a query_only pool of as many
// connections as the store's read pool (max(4, GOMAXPROCS), as sqlite.Open
// sizes it), one prepared statement.
func (b *baselineServer) build(ctx context.Context) error {
	path := filepath.Join(b.dir, "baseline.db")
	// The table is rebuilt every run, so it is written without fsyncs.
	w, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		return err
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	if _, err := w.ExecContext(ctx, `CREATE TABLE rows (id INTEGER PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL, created_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	// One statement inside SQLite: a million rows take about a second.
	_, err = w.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?)
		INSERT INTO rows SELECT i, 'baseline row ' || i, ?, 1700000000 + i FROM n`,
		b.rows, lookupData)
	if err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	b.db, err = sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	b.db.SetMaxOpenConns(n)
	b.db.SetMaxIdleConns(n)
	b.stmt, err = b.db.PrepareContext(ctx, `SELECT id, name, data, created_at FROM rows WHERE id = ?`)
	if err != nil {
		b.db.Close()
		return err
	}
	return nil
}

func (b *baselineServer) closeDB() {
	if b.stmt != nil {
		b.stmt.Close()
	}
	if b.db != nil {
		b.db.Close()
	}
	os.RemoveAll(b.dir)
}

// Close stops the server and deletes the table.
func (b *baselineServer) Close() error {
	err := b.srv.Close()
	<-b.done
	b.closeDB()
	return err
}

// CheckBaselineAddr says why ServeBaseline would refuse addr: it serves on
// loopback only.
func CheckBaselineAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("the baseline's address %q is not host:port", addr)
	}
	if !isLoopback(host) {
		return fmt.Errorf("the baseline serves on loopback only, not %q", addr)
	}
	return nil
}

// ServeBaseline serves the two baselines at addr, a loopback address,
// until ctx ends: GET /static and GET /lookup/{id} over a table of rows
// rows (ids 1 to rows), the same handlers and table as the in-run
// baselines, and GET /metrics with this process's CPU time and RSS. It
// is for load generators whose target is another process: `bench
// --target` runs it as a process of its own (Config.BaselineProcess), and
// external ones (bench/wrk/lookup.lua) need a lookup measured by
// themselves, in the same round. ready is called with the base URL once
// the server listens.
func ServeBaseline(ctx context.Context, addr string, rows int, tempDir string, ready func(base string)) error {
	if rows < 1 {
		return errors.New("the lookup baseline needs at least one row")
	}
	if err := CheckBaselineAddr(addr); err != nil {
		return err
	}
	b, err := startBaselineOn(ctx, addr, rows, tempDir, true)
	if err != nil {
		return err
	}
	ready(b.base.String())
	select {
	case <-ctx.Done():
		return b.Close()
	case err := <-b.done:
		b.done <- err
		b.Close()
		return err
	}
}

// baselineRef is where a run's baselines are served: by a server in this
// process, or by a process of its own (Config.BaselineProcess).
type baselineRef struct {
	base  *url.URL
	rows  int
	apart bool // a process of its own, whose /metrics the run reads
	stop  func() error
}

// startBaseline serves the baselines for this run: as a process apart
// against a --target when the run can start one, in this process
// otherwise.
func (e *env) startBaseline(ctx context.Context, rows int) (*baselineRef, error) {
	if e.cfg.BaselineProcess != nil && !e.cfg.InProcess {
		e.progress("starting the baselines' server, a process of its own, with a lookup table of %d rows", rows)
		raw, stop, err := e.cfg.BaselineProcess(ctx, rows)
		if err != nil {
			return nil, err
		}
		base, err := url.Parse(raw)
		if err != nil || base.Scheme != "http" || !isLoopback(base.Hostname()) {
			stop()
			return nil, fmt.Errorf("the baselines' server answered %q, not a loopback base URL", raw)
		}
		e.progress("the baselines' server is up at %s", base)
		return &baselineRef{base: base, rows: rows, apart: true, stop: stop}, nil
	}
	e.progress("building the lookup baseline's table: %d rows", rows)
	bl, err := startBaseline(ctx, rows, e.cfg.TempDir)
	if err != nil {
		return nil, err
	}
	return &baselineRef{base: bl.base, rows: bl.rows, stop: bl.Close}, nil
}
