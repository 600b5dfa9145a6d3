package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"usercenter"
	"usercenter/core"
	"usercenter/restapi"
)

// userImport reads users from a JSON Lines file, each line a user object
// as POST /v1/apps/{sdkAppId}/users takes it, and creates them through
// ImportUsers, core.MaxBatchUsers a transaction: a batch is created whole
// or not at all, and the import stops at the first batch that fails,
// saying which line and how many users the batches before it created.
func userImport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("user import", stdout, stderr)
	appID := fs.Uint64("app", 0, "the SdkAppId of the app to import into (required)")
	asJSON := fs.Bool("json", false, "print each user created as one JSON object a line: UserId and OriginId")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{msg: "user import needs one FILE of JSON lines, one user object each (- for standard input)"}
	}
	if *appID == 0 {
		return usageError{msg: "user import needs --app SDKAPPID"}
	}
	in := io.Reader(os.Stdin)
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		lines := bufio.NewScanner(in)
		lines.Buffer(make([]byte, 0, 64<<10), restapi.MaxBodyBytes)
		out := bufio.NewWriter(stdout)
		defer out.Flush()
		var (
			patches []core.UserPatch
			lineNos []int
			line    int
			created int
		)
		flush := func() error {
			if len(patches) == 0 {
				return nil
			}
			users, err := inst.svc.CreateUsers(ctx, operator(), *appID, patches)
			if err != nil {
				var e *usercenter.Error
				if errors.As(err, &e) && e.Code != usercenter.EInternal {
					i, ok := e.ItemIndex()
					if !ok && len(lineNos) == 1 && e.Field != "" {
						i, ok = 0, true // a batch of one names no item
					}
					if ok && i < len(lineNos) {
						return fmt.Errorf("line %d: %s; %d users were created before this batch of lines %d–%d, which created none",
							lineNos[i], e.Describe(fields), created, lineNos[0], lineNos[len(lineNos)-1])
					}
				}
				return fmt.Errorf("%w; %d users were created before lines %d–%d, which created none", errMessage(err), created, lineNos[0], lineNos[len(lineNos)-1])
			}
			created += len(users)
			if *asJSON {
				for _, u := range users {
					b, _ := json.Marshal(struct{ UserId, OriginId string }{u.ID, u.OriginID})
					out.Write(append(b, '\n'))
				}
			}
			patches, lineNos = patches[:0], lineNos[:0]
			return nil
		}
		for lines.Scan() {
			line++
			b := bytes.TrimSpace(lines.Bytes())
			if len(b) == 0 {
				continue
			}
			p, err := restapi.DecodeUser(b)
			if err != nil {
				return fmt.Errorf("line %d: %v; %d users were created before it", line, err, created)
			}
			patches, lineNos = append(patches, p), append(lineNos, line)
			if len(patches) == core.MaxBatchUsers {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := lines.Err(); err != nil {
			return fmt.Errorf("line %d: %w; %d users were created before it", line+1, err, created)
		}
		if err := flush(); err != nil {
			return err
		}
		if !*asJSON {
			fmt.Fprintf(out, "imported %d users into app %d\n", created, *appID)
		}
		return nil
	})
}
