package bench

import (
	"context"
	"database/sql"
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

	_ "modernc.org/sqlite" // the driver the store uses

	"usercenter/server"
)

// docTemplate is the baseline's 200-byte JSON document: the static one
// has id 0, row i of the lookup table has id i.
const (
	docPrefix = `{"id":`
	docMiddle = `,"name":"baseline row","data":"`
	docSuffix = `"}`
	docIDLen  = 12
	docSize   = 200
)

var docPad = strings.Repeat("x", docSize-len(docPrefix)-docIDLen-len(docMiddle)-len(docSuffix))

var staticDoc = []byte(docPrefix + strings.Repeat("0", docIDLen) + docMiddle + docPad + docSuffix)

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

// startBaseline builds a table of rows 200-byte rows in a temporary
// SQLite database and starts serving.
func startBaseline(ctx context.Context, rows int, tempDir string) (*baselineServer, error) {
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
	mux.HandleFunc("GET /lookup/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		var doc []byte
		switch err := b.stmt.QueryRowContext(r.Context(), id).Scan(&doc); {
		case errors.Is(err, sql.ErrNoRows):
			http.Error(w, "no such row", http.StatusNotFound)
			return
		case err != nil:
			http.Error(w, "lookup failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
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
// the store opens its reads: WAL, a query_only pool of max(4, GOMAXPROCS)
// connections, one prepared statement.
func (b *baselineServer) build(ctx context.Context) error {
	path := filepath.Join(b.dir, "baseline.db")
	// The table is rebuilt every run, so it is written without fsyncs.
	w, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		return err
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	if _, err := w.ExecContext(ctx, `CREATE TABLE rows (id INTEGER PRIMARY KEY, doc BLOB NOT NULL)`); err != nil {
		return err
	}
	// One statement inside SQLite: a million rows take about a second.
	_, err = w.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?)
		INSERT INTO rows SELECT i, CAST(? || printf('%012d', i) || ? || ? || ? AS BLOB) FROM n`,
		b.rows, docPrefix, docMiddle, docPad, docSuffix)
	if err != nil {
		return err
	}
	var got int
	if err := w.QueryRowContext(ctx, `SELECT length(doc) FROM rows WHERE id = 1`).Scan(&got); err != nil || got != docSize {
		return fmt.Errorf("the baseline rows are %d bytes, not %d (%v)", got, docSize, err)
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
	b.stmt, err = b.db.PrepareContext(ctx, `SELECT doc FROM rows WHERE id = ?`)
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
