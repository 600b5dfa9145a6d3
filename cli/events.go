package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"usercenter"
	"usercenter/core"
)

const eventsTailLong = `Prints the events (see docs/events.md) that are written from now on, one a
line, until interrupted (Ctrl-C). --after ID starts after that event
instead, so that a reader that stopped goes on where it stopped, and
--after 0 starts from the oldest event kept. Without --app it follows
every app's events and the instance's (app 0: master_key.rotated).

--type keeps only some types: types or prefixes ending in .*, separated
by commas (--type user.created,key.*).

A line reads ID AT SDKAPPID TYPE ACTOR, then what the event names
(userId=…, fields=…). With --json each line is one JSON object with the
members of GET /v1/apps/{sdkAppId}/events: id, type, sdkAppId, at, actor
and data. It reads the database read-only, every --poll-interval, and
reads again at once while more events wait.
`

// Bounds of events tail's --poll-interval.
const (
	defaultTailPoll = time.Second
	minTailPoll     = 10 * time.Millisecond
	maxTailPoll     = time.Minute
)

// eventJSON is an event as GET /v1/apps/{sdkAppId}/events spells it, so
// that one parser reads both.
type eventJSON struct {
	Id       int64                `json:"id"`
	Type     string               `json:"type"`
	SdkAppId uint64               `json:"sdkAppId"`
	At       string               `json:"at"`
	Actor    string               `json:"actor"`
	Data     usercenter.EventData `json:"data"`
}

func toEventJSON(e *usercenter.Event) eventJSON {
	return eventJSON{Id: e.ID, Type: string(e.Type), SdkAppId: e.SdkAppID, At: e.At.UTC().Format(time.RFC3339), Actor: e.Actor, Data: e.Data}
}

// eventLine is an event on one line, for a person: what its data names,
// as name=value, after the columns every event has.
func eventLine(e *usercenter.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s %d %s %s", e.ID, e.At.UTC().Format(time.RFC3339), e.SdkAppID, e.Type, e.Actor)
	d := e.Data
	for _, kv := range []struct{ name, value string }{
		{"userId", d.UserID}, {"secretId", d.SecretID}, {"fields", strings.Join(d.Fields, ",")},
		{"field", d.Field}, {"disclosure", d.Disclosure}, {"resealed", count(d.Resealed)}, {"tokens", count(d.Tokens)},
	} {
		if kv.value != "" {
			fmt.Fprintf(&b, " %s=%s", kv.name, kv.value)
		}
	}
	return b.String()
}

// count spells a count of event data, "" for none.
func count(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// parseEventTypes reads --type: types or prefixes such as user.*,
// separated by commas.
func parseEventTypes(s string) ([]usercenter.EventType, error) {
	var out []usercenter.EventType
	for _, pattern := range strings.Split(s, ",") {
		pattern = strings.TrimSpace(pattern)
		types := usercenter.EventTypesMatching(pattern)
		if types == nil {
			known := make([]string, len(usercenter.EventTypes))
			for i, t := range usercenter.EventTypes {
				known[i] = string(t)
			}
			return nil, usageError{msg: fmt.Sprintf("--type: %q names no event type (known: %s; or a prefix such as user.*)", usercenter.ClipName(pattern, 40), strings.Join(known, ", "))}
		}
		for _, t := range types {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// afterFlag is events tail's --after: an event ID, 0 or more, or unset.
type afterFlag struct {
	id  int64
	set bool
}

func (f *afterFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return strconv.FormatInt(f.id, 10)
}

func (f *afterFlag) Set(s string) error {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 {
		return fmt.Errorf("%q is not an event ID, an integer of 0 or more", usercenter.ClipName(s, 40))
	}
	f.id, f.set = id, true
	return nil
}

func eventsTail(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("events tail", stdout, stderr)
	app := fs.String("app", "", "only this app's events (SdkAppId; 0: the instance's own)")
	typ := fs.String("type", "", "only events of these types: types or prefixes such as user.*, separated by commas")
	var after afterFlag
	fs.Var(&after, "after", "start after the event with this `ID` (0: from the oldest kept; default: only the events to come)")
	asJSON := fs.Bool("json", false, "print one JSON object a line")
	poll := fs.Duration("poll-interval", defaultTailPoll, fmt.Sprintf("how often to look for new events (%v to %v)", minTailPoll, maxTailPoll))
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{msg: fmt.Sprintf("events tail takes no arguments, only flags (got %q)", pos[0])}
	}
	q := core.EventQuery{EveryApp: *app == "", Limit: core.MaxEventLimit}
	if *app != "" {
		id, err := strconv.ParseUint(*app, 10, 64)
		if err != nil {
			return usageError{msg: fmt.Sprintf("--app must be an SdkAppId, or 0 for the instance's events, not %q", usercenter.ClipName(*app, 40))}
		}
		q.SdkAppID = id
	}
	if *typ != "" {
		if q.Types, err = parseEventTypes(*typ); err != nil {
			return err
		}
	}
	if *poll < minTailPoll || *poll > maxTailPoll {
		return usageError{msg: fmt.Sprintf("--poll-interval must be between %v and %v", minTailPoll, maxTailPoll)}
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return sf.withInstance(ctx, readOnly, func(inst *instance) error {
		actor := operator()
		if after.set {
			q.After = after.id
		} else if q.After, err = inst.svc.LastEventID(ctx, actor); err != nil {
			return interrupted(ctx, err)
		}
		// On stderr, so that stdout holds only events; it also tells a
		// script the ID it starts after.
		fmt.Fprintf(stderr, "usercenter: following events after ID %d; interrupt to stop\n", q.After)
		enc := json.NewEncoder(stdout)
		for {
			page, err := inst.svc.Events(ctx, actor, q)
			if err != nil {
				return interrupted(ctx, err)
			}
			for i := range page.Events {
				e := &page.Events[i]
				if *asJSON {
					err = enc.Encode(toEventJSON(e))
				} else {
					_, err = fmt.Fprintln(stdout, eventLine(e))
				}
				if err != nil {
					return err
				}
			}
			q.After = page.Next
			if page.More {
				continue
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(*poll):
			}
		}
	})
}

// interrupted is nil when ctx ended, which is how events tail is meant to
// stop, and err in the command line's words otherwise.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return errMessage(err)
}
