package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/webhook"
)

const webhookLong = `An endpoint receives the app's events its --events filters select:
exact types (pii.disclosed) or prefixes (user.*), comma-separated; *
selects every event. Each is POSTed as JSON, in order, at least once,
signed in the Standard Webhooks format with the endpoint's secret, which
webhook create shows once. See docs/events.md.

URLs that resolve to loopback, link-local or private addresses are
refused unless --allow-private is given (and serve runs with
--webhook-allow-private).
`

// webhookJSON is the machine-readable form of an endpoint.
type webhookJSON struct {
	Id            string   `json:"Id"`
	SdkAppId      uint64   `json:"SdkAppId"`
	URL           string   `json:"Url"`
	Events        []string `json:"Events"`
	Secret        string   `json:"Secret,omitempty"`
	Status        string   `json:"Status"`
	Cursor        int64    `json:"Cursor"`
	Attempts      int      `json:"Attempts,omitempty"`
	NextAttemptAt string   `json:"NextAttemptAt,omitempty"`
	FailedAt      string   `json:"FailedAt,omitempty"`
	FailedEventId int64    `json:"FailedEventId,omitempty"`
	CreatedAt     string   `json:"CreatedAt"`
	UpdatedAt     string   `json:"UpdatedAt"`
}

// webhookStatus is how an endpoint fares: failed (flagged: an event was
// given up), retrying, or ok.
func webhookStatus(w *usercenter.Webhook) string {
	switch {
	case !w.FailedAt.IsZero():
		return "failed"
	case w.Attempts > 0:
		return "retrying"
	}
	return "ok"
}

func optTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func toWebhookJSON(w *usercenter.Webhook) webhookJSON {
	return webhookJSON{
		Id: w.ID, SdkAppId: w.SdkAppID, URL: w.URL, Events: w.Events, Secret: w.Secret, Status: webhookStatus(w),
		Cursor: w.Cursor, Attempts: w.Attempts, NextAttemptAt: optTime(w.NextAttemptAt),
		FailedAt: optTime(w.FailedAt), FailedEventId: w.FailedEventID,
		CreatedAt: optTime(w.CreatedAt), UpdatedAt: optTime(w.UpdatedAt),
	}
}

type deliveryJSON struct {
	Id         int64  `json:"Id"`
	EventId    int64  `json:"EventId"`
	EventType  string `json:"EventType"`
	Attempt    int    `json:"Attempt"`
	At         string `json:"At"`
	StatusCode int    `json:"StatusCode,omitempty"`
	LatencyMs  int64  `json:"LatencyMs"`
	Result     string `json:"Result"`
	Error      string `json:"Error,omitempty"`
}

func toDeliveryJSON(d *usercenter.WebhookDelivery) deliveryJSON {
	return deliveryJSON{
		Id: d.ID, EventId: d.EventID, EventType: string(d.EventType), Attempt: d.Attempt,
		At: d.At.UTC().Format(time.RFC3339Nano), StatusCode: d.StatusCode, LatencyMs: d.Latency.Milliseconds(),
		Result: string(d.Result), Error: d.Error,
	}
}

// webhookSender is the sender of the webhook commands: it checks URLs as
// serve's dispatcher would, and sends test events.
func webhookSender(allowPrivate bool, timeout time.Duration) core.Option {
	return core.WithWebhookSender(webhook.NewSender(webhook.SenderOptions{AllowPrivate: allowPrivate, Timeout: timeout}))
}

// webhookIDArg reads the one positional argument of cmd, an endpoint ID.
func webhookIDArg(cmd string, pos []string) (string, error) {
	if len(pos) != 1 || !strings.HasPrefix(pos[0], "wh_") {
		return "", usageError{msg: cmd + " needs one endpoint ID (wh_…; see usercenter webhook list)"}
	}
	return pos[0], nil
}

func webhookCreate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("webhook create", stdout, stderr)
	app := fs.Uint64("app", 0, "the endpoint's SdkAppId (required)")
	url := fs.String("url", "", "the http or https URL to POST events to (required)")
	events := fs.String("events", "", "comma-separated event types or prefixes such as user.* (required)")
	allowPrivate := fs.Bool("allow-private", false, "accept a URL on a loopback, link-local or private address")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if _, err := parse(fs, args, getenv); err != nil {
		return err
	}
	if *app == 0 || *url == "" || *events == "" {
		return usageError{msg: "webhook create needs --app, --url and --events"}
	}
	return sf.withInstanceOpts(ctx, readWrite, []core.Option{webhookSender(*allowPrivate, 0)}, func(inst *instance) error {
		w, err := inst.svc.CreateWebhook(ctx, operator(), core.NewWebhook{SdkAppID: *app, URL: *url, Events: strings.Split(*events, ",")})
		if err != nil {
			return errMessage(err)
		}
		return writeResult(stdout, *asJSON, toWebhookJSON(w), func() error {
			fmt.Fprintf(stdout, "Created webhook endpoint %s.\n\n  SdkAppId  %d\n  Url       %s\n  Events    %s\n  Secret    %s\n\nThe Secret is shown only now: the receiver verifies deliveries with it (docs/events.md).\n",
				w.ID, w.SdkAppID, w.URL, strings.Join(w.Events, ","), w.Secret)
			return nil
		})
	})
}

func webhookList(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("webhook list", stdout, stderr)
	app := fs.Uint64("app", 0, "only this SdkAppId's endpoints")
	asJSON := fs.Bool("json", false, "print one JSON array")
	if _, err := parse(fs, args, getenv); err != nil {
		return err
	}
	return sf.withInstance(ctx, readOnly, func(inst *instance) error {
		ws, err := inst.svc.Webhooks(ctx, operator(), *app)
		if err != nil {
			return errMessage(err)
		}
		out := jsonList(ws, toWebhookJSON)
		return writeResult(stdout, *asJSON, out, func() error {
			tw := newTable(stdout)
			fmt.Fprintln(tw, "ID\tSDKAPPID\tURL\tEVENTS\tCURSOR\tSTATUS")
			for _, w := range out {
				status := w.Status
				if w.FailedAt != "" {
					status += fmt.Sprintf(" (gave up event %d at %s)", w.FailedEventId, w.FailedAt)
				} else if w.Attempts > 0 {
					status += fmt.Sprintf(" (%d attempts; next %s)", w.Attempts, w.NextAttemptAt)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\n", w.Id, w.SdkAppId, w.URL, strings.Join(w.Events, ","), w.Cursor, status)
			}
			return tw.Flush()
		})
	})
}

func webhookShow(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("webhook show", stdout, stderr)
	n := fs.Int("deliveries", 20, "how many of the latest deliveries to show")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	id, err := webhookIDArg("webhook show", pos)
	if err != nil {
		return err
	}
	if *n < 1 || *n > core.DeliveryLogKeep {
		return usageError{msg: fmt.Sprintf("--deliveries must be between 1 and %d", core.DeliveryLogKeep)}
	}
	return sf.withInstance(ctx, readOnly, func(inst *instance) error {
		w, err := inst.svc.Webhook(ctx, operator(), 0, id)
		if err != nil {
			return errMessage(err)
		}
		log, err := inst.svc.WebhookDeliveries(ctx, operator(), 0, id, *n)
		if err != nil {
			return errMessage(err)
		}
		out := struct {
			webhookJSON
			Deliveries []deliveryJSON `json:"Deliveries"`
		}{toWebhookJSON(w), jsonList(log, toDeliveryJSON)}
		return writeResult(stdout, *asJSON, out, func() error {
			tw := newTable(stdout)
			fmt.Fprintf(tw, "Id\t%s\nSdkAppId\t%d\nUrl\t%s\nEvents\t%s\nStatus\t%s\nCursor\t%d\n", w.ID, w.SdkAppID, w.URL, strings.Join(w.Events, ","), out.Status, w.Cursor)
			if out.FailedAt != "" {
				fmt.Fprintf(tw, "FailedAt\t%s (event %d given up)\n", out.FailedAt, w.FailedEventID)
			}
			if w.Attempts > 0 {
				fmt.Fprintf(tw, "Retrying\t%d attempts; next at %s\n", w.Attempts, out.NextAttemptAt)
			}
			fmt.Fprintf(tw, "CreatedAt\t%s\nUpdatedAt\t%s\n", out.CreatedAt, out.UpdatedAt)
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "\nLatest deliveries:\n")
			tw = newTable(stdout)
			fmt.Fprintln(tw, "AT\tEVENT\tTYPE\tATTEMPT\tRESULT\tSTATUS\tLATENCY\tERROR")
			for _, d := range out.Deliveries {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%d\t%dms\t%s\n", d.At, d.EventId, d.EventType, d.Attempt, d.Result, d.StatusCode, d.LatencyMs, d.Error)
			}
			return tw.Flush()
		})
	})
}

func webhookUpdate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("webhook update", stdout, stderr)
	url := fs.String("url", "", "a new URL")
	events := fs.String("events", "", "new comma-separated filters")
	allowPrivate := fs.Bool("allow-private", false, "accept a URL on a loopback, link-local or private address")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	id, err := webhookIDArg("webhook update", pos)
	if err != nil {
		return err
	}
	var p core.WebhookPatch
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "url":
			p.URL = url
		case "events":
			p.Events = strings.Split(*events, ",")
		}
	})
	if p.URL == nil && p.Events == nil {
		return usageError{msg: "webhook update needs --url or --events"}
	}
	return sf.withInstanceOpts(ctx, readWrite, []core.Option{webhookSender(*allowPrivate, 0)}, func(inst *instance) error {
		w, err := inst.svc.UpdateWebhook(ctx, operator(), 0, id, p)
		if err != nil {
			return errMessage(err)
		}
		return writeResult(stdout, *asJSON, toWebhookJSON(w), func() error {
			fmt.Fprintf(stdout, "Updated %s: %s, events %s.\n", w.ID, w.URL, strings.Join(w.Events, ","))
			return nil
		})
	})
}

func webhookDelete(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("webhook delete", stdout, stderr)
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	id, err := webhookIDArg("webhook delete", pos)
	if err != nil {
		return err
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		if err := inst.svc.DeleteWebhook(ctx, operator(), 0, id); err != nil {
			return errMessage(err)
		}
		fmt.Fprintf(stdout, "Deleted %s and its delivery log.\n", id)
		return nil
	})
}

func webhookTest(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("webhook test", stdout, stderr)
	allowPrivate := fs.Bool("allow-private", false, "let the test reach a loopback, link-local or private address")
	timeout := fs.Duration("timeout", webhook.DefaultTimeout, "how long the delivery may take")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	id, err := webhookIDArg("webhook test", pos)
	if err != nil {
		return err
	}
	if *timeout <= 0 || *timeout > time.Minute {
		return usageError{msg: "--timeout must be between 1ns and 1m"}
	}
	return sf.withInstanceOpts(ctx, readWrite, []core.Option{webhookSender(*allowPrivate, *timeout)}, func(inst *instance) error {
		d, err := inst.svc.TestWebhook(ctx, operator(), 0, id)
		if err != nil {
			return errMessage(err)
		}
		out := toDeliveryJSON(d)
		err = writeResult(stdout, *asJSON, out, func() error {
			if d.Error == "" {
				fmt.Fprintf(stdout, "Delivered a webhook.test event: status %d in %dms.\n", d.StatusCode, out.LatencyMs)
			}
			return nil
		})
		if err == nil && d.Error != "" {
			return fmt.Errorf("the webhook.test event failed: %s (status %d, %dms)", d.Error, d.StatusCode, out.LatencyMs)
		}
		return err
	})
}

func webhookReplay(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("webhook replay", stdout, stderr)
	var since time.Time
	fs.Var(timeFlag{&since}, "since", "redeliver the events at or after this RFC 3339 time (required)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	id, err := webhookIDArg("webhook replay", pos)
	if err != nil {
		return err
	}
	if since.IsZero() {
		return usageError{msg: "webhook replay needs --since"}
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		w, err := inst.svc.ReplayWebhook(ctx, operator(), 0, id, since)
		if err != nil {
			return errMessage(err)
		}
		return writeResult(stdout, *asJSON, toWebhookJSON(w), func() error {
			fmt.Fprintf(stdout, "%s will receive again the events after ID %d: those at or after %s that the outbox still holds.\n", w.ID, w.Cursor, since.UTC().Format(time.RFC3339))
			return nil
		})
	})
}
