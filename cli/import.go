package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/restapi"
)

// What user import does with a line whose originId an existing user of
// the app already has.
const (
	onConflictFail   = "fail"   // the line fails, as any bad line does
	onConflictSkip   = "skip"   // the line is skipped and counted: reruns resume
	onConflictUpdate = "update" // the user is patched with the line, through UpdateUser
)

// csvImportColumns are the columns a CSV import may have: the members of
// a user object as POST /v1/apps/{sdkAppId}/users takes it, and
// thirdPartyIds.PROVIDER for each provider. An empty cell leaves the
// member out.
var csvImportColumns = []string{"originId", "nickname", "avatar", "phone", "email", "address", "city", "province",
	"nationality", "lang", "timezone", "sex", "signature", "remark", "status", "logonMode"}

// csvNumeric are the columns whose cells are numbers in the user object.
var csvNumeric = map[string]bool{"status": true, "logonMode": true}

// importLine is one user of the file, with where it came from.
type importLine struct {
	no    int // line number in the file, from 1
	patch core.UserPatch
}

// importTally counts what an import did.
type importTally struct {
	lines, created, updated, skipped, failed int
}

func (t *importTally) summary() string {
	return fmt.Sprintf("%d lines: %d created, %d updated, %d skipped, %d failed", t.lines, t.created, t.updated, t.skipped, t.failed)
}

// userImport reads users from a JSON Lines or CSV file and creates them
// through CreateUsers, core.MaxBatchUsers a transaction: a batch is created
// whole or not at all. A bad line fails on its own: the batch is retried
// without it, and the import goes on until more than --max-errors lines
// failed. Each failure names its line and, in the command line's terms,
// its field.
func userImport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("user import", stdout, stderr)
	appID := fs.Uint64("app", 0, "the SdkAppId of the app to import into (required)")
	format := fs.String("format", "", "jsonl or csv; by default from the file's extension (.csv), else jsonl")
	onConflict := fs.String("on-conflict", onConflictFail, "what to do with a line whose originId a user already has: fail, skip or update")
	maxErrors := fs.Int("max-errors", 0, "go on past this many failed lines (each is reported); one more stops the import")
	asJSON := fs.Bool("json", false, "print each user created as one JSON object a line: UserId and OriginId")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{msg: "user import needs one FILE of users, JSON lines or CSV (- for standard input)"}
	}
	if *appID == 0 {
		return usageError{msg: "user import needs --app SDKAPPID"}
	}
	if *format == "" {
		*format = "jsonl"
		if strings.HasSuffix(strings.ToLower(pos[0]), ".csv") {
			*format = "csv"
		}
	}
	if *format != "jsonl" && *format != "csv" {
		return usageError{msg: fmt.Sprintf("--format must be jsonl or csv, not %q", usercenter.ClipName(*format, 16))}
	}
	if !slices.Contains([]string{onConflictFail, onConflictSkip, onConflictUpdate}, *onConflict) {
		return usageError{msg: fmt.Sprintf("--on-conflict must be fail, skip or update, not %q", usercenter.ClipName(*onConflict, 16))}
	}
	if *maxErrors < 0 {
		return usageError{msg: "--max-errors must not be negative"}
	}
	in := io.Reader(os.Stdin)
	size := int64(0)
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		in = f
	}
	counted := &countingReader{r: in}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		im := &importer{ctx: ctx, svc: inst.svc, actor: operator(), app: *appID, onConflict: *onConflict,
			maxErrors: *maxErrors, stderr: stderr, asJSON: *asJSON, out: bufio.NewWriter(stdout)}
		defer im.out.Flush()
		prog := newProgress(stderr)
		show := func() {
			prog.show(im.tally.lines, func(rate float64, elapsed time.Duration) string {
				line := fmt.Sprintf("%d lines, %.0f/s, %d failed", im.tally.lines, rate, im.tally.failed)
				if size > 0 && counted.n > 0 {
					left := time.Duration(float64(elapsed) * float64(size-counted.n) / float64(counted.n))
					line += ", ETA " + left.Round(time.Second).String()
				}
				return line
			})
		}
		read := readJSONLines
		if *format == "csv" {
			read = readCSV
		}
		err := read(counted, func(l importLine, lineErr error) error {
			if lineErr != nil {
				im.tally.lines++
				return im.fail(l.no, lineErr)
			}
			im.batch = append(im.batch, l)
			if len(im.batch) == core.MaxBatchUsers {
				if err := im.flush(); err != nil {
					return err
				}
				show()
			}
			return nil
		})
		if err == nil {
			err = im.flush()
		}
		prog.end()
		if err != nil {
			return fmt.Errorf("%w; stopped after %s", err, im.tally.summary())
		}
		summary := io.Writer(im.out)
		if *asJSON {
			summary = stderr // standard output is for the JSON lines
		}
		fmt.Fprintf(summary, "imported into app %d: %s\n", *appID, im.tally.summary())
		if im.tally.failed > 0 {
			return fmt.Errorf("%d lines failed (see above); %s", im.tally.failed, im.tally.summary())
		}
		return nil
	})
}

// countingReader counts the bytes read, for the progress line's ETA.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readJSONLines calls each with every user object of a JSON Lines file,
// or with the error of a line that is not one.
func readJSONLines(in io.Reader, each func(importLine, error) error) error {
	lines := bufio.NewScanner(in)
	lines.Buffer(make([]byte, 0, 64<<10), restapi.MaxBodyBytes)
	no := 0
	for lines.Scan() {
		no++
		b := bytes.TrimSpace(lines.Bytes())
		if len(b) == 0 {
			continue
		}
		p, err := restapi.DecodeUser(b)
		if err := each(importLine{no: no, patch: p}, err); err != nil {
			return err
		}
	}
	if err := lines.Err(); err != nil {
		return fmt.Errorf("line %d: %w", no+1, err)
	}
	return nil
}

// readCSV calls each with every row of a CSV file with a header of
// csvImportColumns and thirdPartyIds.PROVIDER columns, in any order. A row
// becomes the user object it spells, and is decoded as a JSON line is.
func readCSV(in io.Reader, each func(importLine, error) error) error {
	r := csv.NewReader(in)
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("line 1: the CSV header cannot be read: %w", err)
	}
	cols := slices.Clone(header)
	for i, c := range cols {
		c = strings.TrimSpace(strings.TrimPrefix(c, "\ufeff"))
		cols[i] = c
		prov, isLink := strings.CutPrefix(c, thirdPartyPrefix)
		if !slices.Contains(csvImportColumns, c) && !(isLink && prov != "") {
			return usageError{msg: fmt.Sprintf("line 1: unknown CSV column %q; known: %s, %s<provider>", usercenter.ClipName(c, 40), strings.Join(csvImportColumns, ", "), thirdPartyPrefix)}
		}
		if slices.Contains(cols[:i], c) {
			return usageError{msg: fmt.Sprintf("line 1: CSV column %q appears twice", c)}
		}
	}
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// A row of the wrong length is that row's fault; a quote
				// out of place may have swallowed the rest of the file.
				if errors.Is(pe.Err, csv.ErrFieldCount) {
					if err := each(importLine{no: pe.StartLine}, fmt.Errorf("has %d cells, the header %d", len(row), len(cols))); err != nil {
						return err
					}
					continue
				}
				return fmt.Errorf("line %d: %v", pe.Line, pe.Err)
			}
			return err
		}
		obj := map[string]any{}
		links := map[string]string{}
		var cellErr error
		for i, v := range row {
			if v == "" {
				continue
			}
			c := cols[i]
			switch {
			case strings.HasPrefix(c, thirdPartyPrefix):
				links[strings.TrimPrefix(c, thirdPartyPrefix)] = v
			case csvNumeric[c]:
				n, err := strconv.Atoi(v)
				if err != nil {
					cellErr = fmt.Errorf("%s must be an integer", c)
				}
				obj[c] = n
			default:
				obj[c] = v
			}
		}
		if len(links) > 0 {
			obj["thirdPartyIds"] = links
		}
		var p core.UserPatch
		if cellErr == nil {
			b, _ := json.Marshal(obj) // strings, ints and a map of strings
			p, cellErr = restapi.DecodeUser(b)
		}
		if err := each(importLine{no: line, patch: p}, cellErr); err != nil {
			return err
		}
	}
}

// importer creates, updates or skips the users of a file, batch by batch.
type importer struct {
	ctx        context.Context
	svc        *core.Service
	actor      *usercenter.Actor
	app        uint64
	onConflict string
	maxErrors  int
	stderr     io.Writer
	asJSON     bool
	out        *bufio.Writer

	batch []importLine
	tally importTally
}

// fail reports a failed line on stderr and counts it; the import stops
// once more lines failed than --max-errors allows.
func (im *importer) fail(line int, err error) error {
	im.tally.failed++
	msg := err.Error()
	var e *usercenter.Error
	if errors.As(err, &e) {
		if e.Code == usercenter.EInternal {
			return err
		}
		msg = e.Describe(fields)
	}
	if im.tally.failed > im.maxErrors {
		return fmt.Errorf("line %d: %s", line, msg)
	}
	fmt.Fprintf(im.stderr, "line %d: %s\n", line, msg)
	return nil
}

// flush writes the batch: the lines of users that exist, by originId,
// are skipped or updated as --on-conflict says; the others are created in
// one CreateUsers. A line CreateUsers refuses fails on its own, and the
// rest are tried again without it.
func (im *importer) flush() error {
	batch := im.batch
	im.batch = im.batch[:0]
	im.tally.lines += len(batch)
	if im.onConflict != onConflictFail {
		var rest []importLine
		for _, l := range batch {
			done, err := im.existing(l)
			if err != nil {
				if err := im.fail(l.no, err); err != nil {
					return err
				}
				continue
			}
			if !done {
				rest = append(rest, l)
			}
		}
		batch = rest
	}
	for len(batch) > 0 {
		patches := make([]core.UserPatch, len(batch))
		for i := range batch {
			patches[i] = batch[i].patch
		}
		users, err := im.svc.CreateUsers(im.ctx, im.actor, im.app, patches)
		if err == nil {
			im.tally.created += len(users)
			if im.asJSON {
				for _, u := range users {
					b, _ := json.Marshal(struct{ UserId, OriginId string }{u.ID, u.OriginID})
					im.out.Write(append(b, '\n'))
				}
			}
			return nil
		}
		var e *usercenter.Error
		if !errors.As(err, &e) || e.Code == usercenter.EInternal {
			return errMessage(err)
		}
		i, ok := e.ItemIndex()
		if !ok && len(batch) == 1 && e.Field != "" {
			i, ok = 0, true // a batch of one names no item
		}
		if !ok || i >= len(batch) {
			// About the batch as a whole (the app, say): no line is at fault.
			return errMessage(err)
		}
		if err := im.fail(batch[i].no, err); err != nil {
			return err
		}
		batch = slices.Delete(batch, i, i+1)
	}
	return nil
}

// existing skips or updates the user of l when the app has one with its
// originId, and reports whether it did.
func (im *importer) existing(l importLine) (bool, error) {
	if l.patch.OriginID == nil || *l.patch.OriginID == "" {
		return false, nil
	}
	page, err := im.svc.ListUsers(im.ctx, im.actor, core.UserQuery{SdkAppID: im.app, OriginID: *l.patch.OriginID, Limit: 1})
	if err != nil {
		return false, err
	}
	if len(page.Users) == 0 {
		return false, nil
	}
	if im.onConflict == onConflictSkip {
		im.tally.skipped++
		return true, nil
	}
	p := l.patch
	p.OriginID = nil // the same
	if _, err := im.svc.UpdateUser(im.ctx, im.actor, page.Users[0].ID, p); err != nil {
		return false, err
	}
	im.tally.updated++
	return true, nil
}
