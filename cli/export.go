package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
)

// isTerminal reports whether w is a terminal, where a progress line that
// rewrites itself helps a person; in a file or a pipe it would be noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress rewrites one line on a terminal, at most a few times a second;
// anywhere else it writes nothing.
type progress struct {
	w     io.Writer
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer) *progress {
	if !isTerminal(w) {
		return nil
	}
	return &progress{w: w, start: time.Now()}
}

// show writes the line that line makes from the rate so far, unless one
// was written less than 200 ms ago.
func (p *progress) show(done int, line func(rate float64, elapsed time.Duration) string) {
	if p == nil {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start)
	rate := float64(done) / max(elapsed.Seconds(), 1e-3)
	fmt.Fprintf(p.w, "\r\033[K%s", line(rate, elapsed))
}

// end clears the line.
func (p *progress) end() {
	if p != nil {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// eta is how long the rest takes at rate, for a progress line.
func eta(done, total int, rate float64) string {
	if total <= done || rate <= 0 {
		return "0s"
	}
	return (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
}

// csvColumns is the header of `user export --format csv`: the members of
// a user object of --json, then one column per third-party provider.
func csvColumns() []string {
	cols := []string{"UserId", "SdkAppId", "UserDomain", "OriginId", "Status", "Nickname", "Avatar", "Phone", "Email", "Address",
		"City", "Province", "Nationality", "Lang", "Timezone", "Sex", "Signature", "Remark", "LogonMode",
		"CreatedAt", "UpdatedAt", "LastLoginAt"}
	for _, p := range usercenter.Providers {
		cols = append(cols, "ThirdPartyIds."+string(p))
	}
	return cols
}

func csvRow(u *usercenter.User) []string {
	j := toUserJSON(u)
	row := []string{j.UserId, strconv.FormatUint(j.SdkAppId, 10), j.UserDomain, j.OriginId, strconv.Itoa(j.Status), j.Nickname, j.Avatar,
		j.Phone, j.Email, j.Address, j.City, j.Province, j.Nationality, j.Lang, j.Timezone, j.Sex, j.Signature, j.Remark,
		strconv.Itoa(j.LogonMode), j.CreatedAt, j.UpdatedAt, j.LastLoginAt}
	for _, p := range usercenter.Providers {
		row = append(row, u.ThirdParty[p])
	}
	return row
}

// exportPage is how many users each transaction of an export reads.
const exportPage = core.MaxPageSize

func userExport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("user export", stdout, stderr)
	app := fs.Uint64("app", 0, "SdkAppId of the app to export (required)")
	format := fs.String("format", "", "jsonl or csv; by default from the extension of -o, else jsonl")
	revealStr := fs.String("reveal", "", revealHelp+"; needs --reason")
	reason := fs.String("reason", "", "why personal data is revealed, recorded with each disclosure")
	outPath := fs.String("o", "", "write to this file instead of standard output")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{msg: fmt.Sprintf("user export takes no arguments, only flags (got %d)", len(pos))}
	}
	if *app == 0 {
		return usageError{msg: "user export needs --app"}
	}
	if *format == "" {
		*format = "jsonl"
		if strings.HasSuffix(strings.ToLower(*outPath), ".csv") {
			*format = "csv"
		}
	}
	if *format != "jsonl" && *format != "csv" {
		return usageError{msg: fmt.Sprintf("--format must be jsonl or csv, not %q", usercenter.ClipName(*format, 16))}
	}
	reveal, err := revealFlag(*revealStr)
	if err != nil {
		return err
	}
	actor := operator()
	if len(reveal) > 0 {
		if strings.TrimSpace(*reason) == "" {
			return usageError{msg: "--reveal needs --reason: every disclosure records why"}
		}
	} else if *reason != "" {
		return usageError{msg: "--reason goes with --reveal"}
	}
	return sf.withInstance(ctx, revealAccess(reveal), func(inst *instance) error {
		total, err := inst.svc.UserCount(ctx, operator(), *app)
		if err != nil {
			return errMessage(err)
		}
		var dst io.Writer = stdout
		var file *os.File
		if *outPath != "" && *outPath != "-" {
			if file, err = os.OpenFile(*outPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
				return err
			}
			defer file.Close()
			dst = file
		}
		n, err := exportUsers(ctx, inst.svc, actor, core.UserQuery{SdkAppID: *app, Reveal: reveal, Reason: strings.Join(strings.Fields(*reason), " ")}, *format, dst, total, newProgress(stderr))
		if err != nil {
			return fmt.Errorf("%w; %d users were written before it", err, n)
		}
		if file != nil {
			if err := file.Close(); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "exported %d users of app %d to %s\n", n, *app, *outPath)
		}
		return nil
	})
}

// exportUsers writes the users of q, page after page, in format to w, and
// returns how many it wrote. Each page is one ListUsers: one read, or with
// Reveal one transaction with its disclosures' audit events.
func exportUsers(ctx context.Context, svc *core.Service, actor *usercenter.Actor, q core.UserQuery, format string, w io.Writer, total int, prog *progress) (int, error) {
	out := bufio.NewWriterSize(w, 256<<10)
	var cw *csv.Writer
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if format == "csv" {
		cw = csv.NewWriter(out)
		if err := cw.Write(csvColumns()); err != nil {
			return 0, err
		}
	}
	q.Limit = exportPage
	n := 0
	for {
		page, err := svc.ListUsers(ctx, actor, q)
		if err != nil {
			return n, errMessage(err)
		}
		for i := range page.Users {
			u := &page.Users[i]
			if cw != nil {
				err = cw.Write(csvRow(u))
			} else {
				err = enc.Encode(toUserJSON(u))
			}
			if err != nil {
				return n, err
			}
		}
		n += len(page.Users)
		prog.show(n, func(rate float64, _ time.Duration) string {
			return fmt.Sprintf("exported %d of %d users, %.0f/s, ETA %s", n, max(total, n), rate, eta(n, total, rate))
		})
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	prog.end()
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
	}
	return n, out.Flush()
}
