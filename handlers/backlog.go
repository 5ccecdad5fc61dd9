package handlers

import (
	"context"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// backlogPage is the refund-later backlog: cancelled orders that still
// owe the customer money, oldest first.
type backlogPage struct {
	Page
	Entries []backlogRow
	Total   int
}

type backlogRow struct {
	canceldesk.BacklogEntry
	Age time.Duration
}

// backlogLimit bounds one page of the backlog.
const backlogLimit = 200

// refundBacklog lists the cancelled orders with a refundable balance.
func (s *Server) refundBacklog(c *fiber.Ctx) error {
	entries, total, err := s.Refunds.RefundBacklog(c.UserContext(), backlogLimit)
	if err != nil {
		return err
	}
	l := localizer(c)
	p := backlogPage{Page: s.page(c, l.T("backlog.title"), "backlog"), Total: total}
	now := s.Now()
	for _, e := range entries {
		if e.ReasonLabel == string(e.Reason) {
			e.ReasonLabel = "" // imported cancels carry only the code: show its label
		}
		p.Entries = append(p.Entries, backlogRow{BacklogEntry: e, Age: now.Sub(e.CancelledAt)})
	}
	return s.render(c, fiber.StatusOK, "refunds/backlog", "", p)
}

// backlogCount keeps a navigation count for a few seconds, so every page
// does not count; a write committed on this instance forgets it at once
// (see committed), one on another instance shows after the TTL.
type backlogCount struct {
	mu  sync.Mutex
	n   int
	at  time.Time
	ttl time.Duration
}

func (b *backlogCount) forget() {
	b.mu.Lock()
	b.at = time.Time{}
	b.mu.Unlock()
}

// get returns the count, asking count when the kept one is older than ttl.
// A failing count shows as 0 rather than failing the page.
func (b *backlogCount) get(ctx context.Context, now time.Time, count func(context.Context) (int, error)) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.at.IsZero() && now.Sub(b.at) < b.ttl {
		return b.n
	}
	n, err := count(ctx)
	if err != nil {
		return b.n
	}
	b.n, b.at = n, now
	return n
}

// committed is the server's part of the store's after-commit hook: it
// forgets the counts and the rate alert a committed write may have
// changed. Handlers never forget them by hand.
func (s *Server) committed(_ context.Context, ch canceldesk.Changes) {
	if ch.Has(canceldesk.ChangedOrders | canceldesk.ChangedRefunds) {
		s.backlog.forget()
		s.listCounts.forget()
	}
	if ch.Has(canceldesk.ChangedRequests) {
		s.requests.forget()
	}
	if ch.Has(canceldesk.ChangedSettings | canceldesk.ChangedOrders) {
		s.alert.forget()
	}
	if !ch.Empty() {
		s.analyticsFig.forget()
	}
}
