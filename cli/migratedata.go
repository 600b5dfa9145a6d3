package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"usercenter/datamove"
	"usercenter/vault"
)

const migrateDataHelp = `Copies an instance from its SQLite database into PostgreSQL: apps, API
keys, users with their links, login tokens, codes, enterprise tokens,
audit events and the instance's own keys (meta). Encrypted values are
copied byte for byte: start the servers on PostgreSQL with the same
master key file.

  1. migrates both databases to the latest schema,
  2. reads the source in one transaction, a consistent snapshot even
     while a server writes to it,
  3. refuses a destination that a server has initialised, that holds
     apps, keys, users or audit events the source lacks, or that a
     server is using: move into an empty database,
  4. copies each table in batches, one transaction each,
  5. verifies: row counts, a random sample of rows compared byte for
     byte, and with the master key a sample of encrypted values opened
     in the destination. Any difference exits non-zero.

Running it again is safe and cheap: rows already copied are skipped,
rows changed in the source since are updated, rows deleted there are
removed. After an interruption, run it again; to bring over what a
running server wrote during a first run, stop the server and run it
again. See docs/migrate-data.md.

The master key is read from --master-key-file, or DATA/master.key; when
neither exists the encrypted values are compared but not opened.
`

// migrateDataJSON is the output of migrate-data --json.
type migrateDataJSON struct {
	Source      string
	Destination string // without its password
	// SourceInUse says a server was using the source: what it wrote after
	// the snapshot still has to be copied by another run.
	SourceInUse bool
	KeyFile     string `json:",omitempty"` // the master key the values were opened with
	*datamove.Report
}

func migrateData(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs := newFlagSet("migrate-data", stdout)
	sf := new(storeFlags)
	fs.StringVar(&sf.data, "data", "./data", "data directory: where the master key is by default")
	fs.StringVar(&sf.masterKeyFile, "master-key-file", "", "the instance's master key file (default DATA/master.key)")
	from := fs.String("from", "", "the SQLite database to copy: sqlite:PATH")
	to := fs.String("to", "", "the PostgreSQL database to copy into: postgres://USER:PASSWORD@HOST:PORT/DB")
	batch := fs.Int("batch", datamove.DefaultBatch, "rows per destination transaction")
	sample := fs.Int("sample", datamove.DefaultSample, "rows per table compared after the copy")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{msg: fmt.Sprintf("migrate-data takes no arguments (got %q)", pos[0])}
	}
	if *from == "" || *to == "" {
		return usageError{msg: "migrate-data needs --from sqlite:PATH and --to postgres://…"}
	}
	if *batch < 1 || *batch > datamove.MaxBatch {
		return usageError{msg: fmt.Sprintf("--batch must be from 1 to %d", datamove.MaxBatch)}
	}
	if *sample < 1 {
		return usageError{msg: "--sample must be at least 1"}
	}
	if *from == *to {
		return usageError{msg: "--from and --to name the same database"}
	}
	src, err := (&storeFlags{db: *from}).target()
	if err != nil {
		return usageError{msg: "--from: " + err.Error()}
	}
	if src.engine != engineSQLite {
		return usageError{msg: "--from must be a SQLite database, sqlite:PATH; the destination is the PostgreSQL one"}
	}
	dst, err := (&storeFlags{db: *to}).target()
	if err != nil {
		return usageError{msg: "--to: " + err.Error()}
	}
	if dst.engine != enginePostgres {
		return usageError{msg: "--to must be a PostgreSQL database, postgres://USER:PASSWORD@HOST:PORT/DB"}
	}

	var ring *vault.Keyring
	keyPath := sf.keyPath()
	keys, err := vault.ReadKeyFile(keyPath)
	switch {
	case err == nil:
		if ring, err = vault.New(keys...); err != nil {
			return fmt.Errorf("%s: %w", keyPath, err)
		}
	case errors.Is(err, os.ErrNotExist) && !keyAsked(fs, sf, getenv):
		keyPath = "" // no key at the default place: compare ciphertexts only
	default:
		return err
	}

	// A server on the source is allowed (the snapshot is consistent), but
	// what it writes afterwards needs another run: say so.
	inUse := false
	if release, err := lockFile(src.path, ""); err == nil {
		release()
	} else if errors.Is(err, errLocked) {
		inUse = true
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stderr, "Copying %s to %s\n", src, dst)
	if inUse {
		fmt.Fprintf(stderr, "A usercenter server is using %s: what it writes from now on is not in this copy.\nStop it and run this command again to bring that over.\n", src)
	}
	view := newProgressView(stderr)
	rep, err := datamove.Migrate(ctx, src.path, dst.dsn, datamove.Options{
		Batch: *batch, Sample: *sample, Keyring: ring, Progress: view.update,
	})
	view.clear()
	// pgx does not always wrap the context's error when a statement is cut
	// short, so ask the context.
	if err != nil && ctx.Err() != nil {
		return errors.New("interrupted: the batches copied so far are kept; run the same command again to go on")
	}
	if err != nil && !errors.Is(err, datamove.ErrMismatch) {
		return err
	}
	out := migrateDataJSON{Source: src.String(), Destination: dst.String(), SourceInUse: inUse, KeyFile: keyPath, Report: rep}
	if *asJSON {
		if werr := writeJSON(stdout, out); werr != nil {
			return werr
		}
		return err
	}
	if werr := printMigrateData(stdout, out, *sample); werr != nil {
		return werr
	}
	return err
}

// keyAsked reports whether the command line or the environment says where
// the master key is; only then is a missing key file an error.
func keyAsked(fs *flag.FlagSet, sf *storeFlags, getenv env) bool {
	asked := sf.masterKeyFile != "" || getenv("USERCENTER_DATA") != ""
	fs.Visit(func(f *flag.Flag) { asked = asked || f.Name == "data" })
	return asked
}

func printMigrateData(w io.Writer, out migrateDataJSON, sample int) error {
	rep := out.Report
	tw := newTable(w)
	fmt.Fprintln(tw, "  TABLE\tSOURCE\tINSERTED\tUPDATED\tUNCHANGED\tREMOVED\tDESTINATION\tSAMPLED\tROWS/S")
	var sampled int
	for _, t := range rep.Tables {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Table, commas(t.Source), commas(t.Inserted), commas(t.Updated),
			commas(t.Unchanged), commas(t.Removed), commas(t.Destination), commas(int64(t.Sampled)), commas(int64(t.RowsPerSecond)))
		sampled += t.Sampled
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if !rep.Verified {
		fmt.Fprintf(w, "The destination %s does NOT match the source:\n", out.Destination)
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
		fmt.Fprintln(w, "Do not switch to the destination. Running the command again repairs rows that differ or are missing. Values that do not open\n"+
			"are byte for byte the source's (unless listed as differing too): the source itself holds them so, or the key file is not this instance's.")
		return nil
	}
	fmt.Fprintf(w, "Copied %s rows in %.1fs. Verified: every table's row count matches, and %s sampled rows (up to %d a table) are identical byte for byte.\n",
		commas(rep.Copied), rep.Seconds, commas(int64(sampled)), sample)
	if d := rep.Decrypted; d != nil {
		fmt.Fprintf(w, "Encrypted values open in the destination with %s: %d app %s, %d API key %s, and the personal data of %s sampled %s.\n",
			out.KeyFile, d.Apps, plural(d.Apps, "secret", "secrets"), d.Keys, plural(d.Keys, "secret", "secrets"), commas(int64(d.Users)), plural(d.Users, "user", "users"))
	} else {
		fmt.Fprintln(w, "Encrypted values were compared but not opened: give --master-key-file to open a sample of them.")
	}
	if out.SourceInUse {
		fmt.Fprintf(w, "A server was using %s during the copy: stop it, then run this command again before starting servers on PostgreSQL.\n", out.Source)
	} else {
		fmt.Fprintf(w, "Start the servers on %s (--db or USERCENTER_DB) with the same master key file.\n", out.Destination)
	}
	return nil
}

// progressView shows the copy's progress on stderr: one line per table,
// redrawn in place on a terminal, and written once the table is done
// otherwise (a log, a pipe).
type progressView struct {
	w     io.Writer
	tty   bool
	last  time.Time
	drawn bool
}

func newProgressView(w io.Writer) *progressView {
	v := &progressView{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			v.tty = true
		}
	}
	return v
}

func (v *progressView) update(p datamove.Progress) {
	line := fmt.Sprintf("%-18s %s / %s", p.Table, commas(p.Done), commas(p.Total))
	if p.Total > 0 {
		line += fmt.Sprintf("  (%d%%)", p.Done*100/p.Total)
	}
	line += fmt.Sprintf("  %s rows/s", commas(int64(p.RowsPerSecond())))
	if !v.tty {
		if p.Finished {
			fmt.Fprintf(v.w, "%s  %.1fs\n", line, p.Elapsed.Seconds())
		}
		return
	}
	// Redrawing on every batch would flood a slow terminal.
	if !p.Finished && p.Done > 0 && time.Since(v.last) < 100*time.Millisecond {
		return
	}
	v.last = time.Now()
	fmt.Fprintf(v.w, "\r\x1b[K%s", line)
	v.drawn = !p.Finished
	if p.Finished {
		fmt.Fprintln(v.w)
	}
}

// clear ends a line left half-drawn by an interruption.
func (v *progressView) clear() {
	if v.tty && v.drawn {
		fmt.Fprintln(v.w)
		v.drawn = false
	}
}

// commas writes n with thousands separators, as people read counts.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
