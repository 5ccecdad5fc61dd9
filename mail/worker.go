package mail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/canceldesk/canceldesk"
)

// Worker drains the outbox: claims due messages, sends each, records the
// outcome.
//
// Delivery is at least once: a message is marked sent right after the
// server accepts it, so only a crash between the two (or a reply lost on
// the network) sends it again, with the same Message-ID.
type Worker struct {
	Outbox canceldesk.Outbox
	Sender interface {
		Send(ctx context.Context, m Message) error
	} // *Sender in production
	// Envelope and header defaults. Settings, when set, gives the store's
	// name and reply-to at send time; an empty one keeps the default here.
	From, FromName, ReplyTo string
	Settings                func(ctx context.Context) (fromName, replyTo string)
	Batch                   int           // claimed per pass; 0 = 20
	Lease                   time.Duration // 0 = 2m
	// MaxAttempts: after this many failed tries the message fails for
	// good; 0 = 6.
	MaxAttempts int
	Backoff     func(attempt int) time.Duration // nil = DefaultBackoff
	Now         func() time.Time                // nil = time.Now
	Log         *slog.Logger                    // nil = slog.Default()
}

// backoffSteps are the waits after the 1st, 2nd... failed try.
var backoffSteps = []time.Duration{
	time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// DefaultBackoff waits 1m, 5m, 30m, 2h, 6h, 12h, then 24h after the
// attempt-th failed try: quick for a blip, patient for an outage.
func DefaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > len(backoffSteps) {
		return backoffSteps[len(backoffSteps)-1]
	}
	return backoffSteps[attempt-1]
}

// maxErrLen bounds the error stored on the message: managers read it on
// the Messages page.
const maxErrLen = 300

// markTimeout bounds recording an outcome once the worker is stopping.
const markTimeout = 10 * time.Second

func (w *Worker) batch() int {
	if w.Batch > 0 {
		return w.Batch
	}
	return 20
}

func (w *Worker) lease() time.Duration {
	if w.Lease > 0 {
		return w.Lease
	}
	return 2 * time.Minute
}

func (w *Worker) maxAttempts() int {
	if w.MaxAttempts > 0 {
		return w.MaxAttempts
	}
	return 6
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}

// RunOnce claims one batch and handles it; returns how many were sent.
func (w *Worker) RunOnce(ctx context.Context) (sent int, err error) {
	sent, _, err = w.runOnce(ctx)
	return sent, err
}

// runOnce also says how many were claimed, so Run knows if more wait.
func (w *Worker) runOnce(ctx context.Context) (sent, claimed int, err error) {
	msgs, err := w.Outbox.ClaimMessages(ctx, w.batch(), w.lease())
	if err != nil {
		return 0, 0, fmt.Errorf("mail: claim messages: %w", err)
	}
	if len(msgs) == 0 {
		return 0, 0, nil
	}
	fromName, replyTo := w.FromName, w.ReplyTo
	if w.Settings != nil {
		n, r := w.Settings(ctx)
		fromName, replyTo = cmp.Or(n, fromName), cmp.Or(r, replyTo)
	}
	// Sends and records are not cut by ctx: a message the server accepted
	// must be marked sent, or it would go out again after the lease. The
	// Sender's own timeout bounds how long stopping waits.
	bg := context.WithoutCancel(ctx)
	for _, m := range msgs {
		if ctx.Err() != nil {
			// Stop between messages; those not tried stay claimed and come
			// back when the lease ends.
			break
		}
		ok, err := w.handle(bg, m, fromName, replyTo)
		if err != nil {
			// The outbox cannot record outcomes: sending more would only
			// send them again after the lease.
			return sent, len(msgs), err
		}
		if ok {
			sent++
		}
	}
	return sent, len(msgs), nil
}

// handle sends one claimed message and records the outcome. err is an
// error of the outbox, not of the send.
func (w *Worker) handle(ctx context.Context, m canceldesk.OutboxMessage, fromName, replyTo string) (sent bool, err error) {
	log := w.log().With("message", m.ID, "order", m.OrderName, "kind", m.Kind, "attempt", m.Attempts)
	var sendErr error
	if strings.TrimSpace(m.Recipient) == "" {
		sendErr = &SendError{Err: errors.New("no recipient address"), Permanent: true}
	} else {
		sendErr = w.Sender.Send(ctx, Message{
			From: w.From, FromName: fromName, ReplyTo: replyTo, To: m.Recipient,
			Subject: m.Subject, Text: m.Text, HTML: m.HTML, MessageID: m.MessageID,
			Date: w.now(), Lang: m.Lang,
		})
	}

	mctx, cancel := context.WithTimeout(ctx, markTimeout)
	defer cancel()
	if sendErr == nil {
		if err := w.Outbox.MarkSent(mctx, m.ID); err != nil {
			log.Error("mail: sent but not marked sent; it will be sent again", "err", err)
			return false, fmt.Errorf("mail: mark message %d sent: %w", m.ID, err)
		}
		log.Info("mail: sent", "to", m.Recipient)
		return true, nil
	}

	msg := shortError(sendErr)
	var se *SendError
	permanent := errors.As(sendErr, &se) && se.Permanent
	var retryAt *time.Time
	if !permanent && m.Attempts < w.maxAttempts() {
		backoff := w.Backoff
		if backoff == nil {
			backoff = DefaultBackoff
		}
		t := w.now().Add(backoff(m.Attempts))
		retryAt = &t
	}
	if err := w.Outbox.MarkFailed(mctx, m.ID, msg, retryAt); err != nil {
		return false, fmt.Errorf("mail: mark message %d failed: %w", m.ID, err)
	}
	if retryAt != nil {
		log.Warn("mail: not sent; will retry", "err", msg, "retry_at", *retryAt)
	} else {
		log.Error("mail: not sent; failed for good", "err", msg)
	}
	return false, nil
}

// shortError is err on one line, bounded, for people to read.
func shortError(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) <= maxErrLen {
		return s
	}
	cut := maxErrLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Run calls RunOnce until ctx ends: at once again when a batch was full
// (more are likely waiting), else after idle (0 = 5s).
func (w *Worker) Run(ctx context.Context, idle time.Duration) {
	if idle <= 0 {
		idle = 5 * time.Second
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, claimed, err := w.runOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log().Error("mail: worker pass failed", "err", err)
		}
		wait := idle
		if err == nil && claimed >= w.batch() {
			wait = 0
		}
		t.Reset(wait)
	}
}
