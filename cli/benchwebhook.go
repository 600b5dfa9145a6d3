package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"usercenter"
	"usercenter/bench"
	"usercenter/core"
	"usercenter/webhook"
)

// lagReceiver is bench --webhook's endpoint: it answers 204 at once and
// keeps, for each user.created event, the time from the event (its At,
// taken in the transaction that commits it) to its receipt.
type lagReceiver struct {
	mu   sync.Mutex
	lags []time.Duration
	seen map[int64]bool
}

func (r *lagReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	var p usercenter.WebhookPayload
	err := json.NewDecoder(req.Body).Decode(&p)
	w.WriteHeader(http.StatusNoContent)
	if err != nil || p.Type != usercenter.EventUserCreated {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.seen[p.ID] {
		r.seen[p.ID] = true
		r.lags = append(r.lags, now.Sub(p.At))
	}
}

// benchWebhookRounds runs the benchmark twice on one instance: with no
// webhook endpoint, then with one on user.created, delivered by a
// dispatcher as serve runs it to a receiver in this process. It returns
// the second round's report, with notes comparing the two and the
// delivery lag.
//
// With discard, deliveries succeed at once without HTTP: what remains is
// the dispatcher's own work in the store (reading the outbox, recording
// deliveries), apart from the cost of the requests themselves.
func benchWebhookRounds(ctx context.Context, inst *instance, app *usercenter.App, sender *webhook.Sender, wake chan struct{}, cfg bench.Config, log *slog.Logger, discard bool) (*bench.Report, error) {
	first, err := bench.Run(ctx, cfg)
	if err != nil || ctx.Err() != nil {
		return first, err
	}

	recv := &lagReceiver{seen: map[int64]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return first, err
	}
	srv := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	hook, err := inst.svc.CreateWebhook(ctx, operator(), core.NewWebhook{SdkAppID: app.SdkAppID, URL: "http://" + ln.Addr().String() + "/bench", Events: []string{string(usercenter.EventUserCreated)}})
	if err != nil {
		return first, fmt.Errorf("creating the bench's webhook endpoint: %w", err)
	}
	dctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var send core.WebhookSender = sender
		if discard {
			send = discardSender{}
		}
		webhook.NewDispatcher(inst.svc, send, wake, webhook.Config{Log: log}).Run(dctx)
	}()
	defer func() {
		stop()
		<-done
	}()

	second, err := bench.Run(ctx, cfg)
	if err != nil || second == nil {
		return second, err
	}
	// Let the dispatcher catch up, within a bound, and measure what
	// arrived.
	drainStart := time.Now()
	backlog := -1
	for time.Since(drainStart) < 2*time.Minute && ctx.Err() == nil {
		w, err := inst.svc.Webhook(ctx, operator(), 0, hook.ID)
		if err != nil {
			return second, err
		}
		if backlog, _, err = inst.svc.WebhookBacklog(ctx, app.SdkAppID, w.Cursor); err != nil {
			return second, err
		}
		if backlog == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	recv.mu.Lock()
	lags := slices.Clone(recv.lags)
	recv.mu.Unlock()
	slices.Sort(lags)
	pct := func(q float64) time.Duration {
		if len(lags) == 0 {
			return 0
		}
		return lags[min(len(lags)-1, int(q*float64(len(lags))))]
	}
	find := func(rep *bench.Report, name string) *bench.Result {
		for i, r := range rep.Scenarios {
			if r.Name == name {
				return &rep.Scenarios[i]
			}
		}
		return nil
	}
	// The machine may be busier in one round than the other: each round's
	// ratio to its own lookup baseline compares better than raw rates.
	for _, r := range second.Scenarios {
		before := find(first, r.Name)
		if before == nil || before.ReqPerSec == 0 || before.RatioToLookup == 0 {
			continue
		}
		second.Notes = append(second.Notes, fmt.Sprintf("--webhook: %s %.0f req/s (%.3f × lookup) with one endpoint on user.created; %.0f req/s (%.3f × lookup) with none, in the round before: %+.1f%% raw, %+.1f%% × lookup",
			r.Name, r.ReqPerSec, r.RatioToLookup, before.ReqPerSec, before.RatioToLookup,
			100*(r.ReqPerSec-before.ReqPerSec)/before.ReqPerSec, 100*(r.RatioToLookup-before.RatioToLookup)/before.RatioToLookup))
	}
	if discard {
		second.Notes = append(second.Notes, "--webhook-discard: deliveries succeeded at once, without HTTP; no lag was measured")
		return second, nil
	}
	second.Notes = append(second.Notes, fmt.Sprintf("--webhook: %d user.created events delivered to a receiver in this process; lag from the event to its receipt p50 %v, p99 %v, max %v; %d events of the app still undelivered %v after the round",
		len(lags), pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond), backlog, time.Since(drainStart).Round(time.Millisecond)))
	return second, nil
}

// discardSender is bench --webhook-discard's: every delivery succeeds at
// once.
type discardSender struct{}

func (discardSender) CheckURL(context.Context, *url.URL) error { return nil }

func (discardSender) Send(context.Context, core.WebhookMessage) core.WebhookAttempt {
	return core.WebhookAttempt{OK: true, StatusCode: http.StatusNoContent}
}
