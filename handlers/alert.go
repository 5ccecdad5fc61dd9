package handlers

import (
	"context"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// RateAlert says the last 7 days' cancellation rate is above the
// managers' threshold.
type RateAlert struct {
	RateBP, ThresholdBP int64
}

// alertCache keeps the last 7 days' rate for a minute: the orders page
// shows the alert, and must not read the rollups on every request.
type alertCache struct {
	mu    sync.Mutex
	at    time.Time
	alert *RateAlert
}

// alertTTL is how long the alert is kept.
const alertTTL = time.Minute

// rateAlert returns the alert when the last 7 days' rate (cancellations
// made ÷ orders placed) is above the threshold, else nil. Errors hide the
// alert rather than fail the page.
func (s *Server) rateAlert(c *fiber.Ctx) *RateAlert {
	now := s.Now()
	s.alert.mu.Lock()
	defer s.alert.mu.Unlock()
	if !s.alert.at.IsZero() && now.Sub(s.alert.at) < alertTTL {
		return s.alert.alert
	}
	a, err := s.computeRateAlert(c.UserContext(), now)
	if err != nil {
		s.Logger.Warn("rate alert", "err", err)
		return nil
	}
	s.alert.at, s.alert.alert = now, a
	return a
}

func (s *Server) computeRateAlert(ctx context.Context, now time.Time) (*RateAlert, error) {
	settings, err := s.Refunds.Settings(ctx)
	if err != nil || settings.AlertRateBP <= 0 {
		return nil, err
	}
	to := now.Truncate(time.Hour).Add(time.Hour)
	from := to.Add(-7 * 24 * time.Hour)
	rows, err := s.Stats.StatsRows(ctx, from, to)
	if err != nil {
		return nil, err
	}
	f := canceldesk.SumFigures(rows, from, to, canceldesk.BasisCancelled)
	if f.RateBP() <= settings.AlertRateBP {
		return nil, nil
	}
	return &RateAlert{RateBP: f.RateBP(), ThresholdBP: settings.AlertRateBP}, nil
}

// forget drops the kept alert (the threshold or the cancellations changed).
func (a *alertCache) forget() {
	a.mu.Lock()
	a.at = time.Time{}
	a.mu.Unlock()
}

// Percent writes basis points as a percentage.
func (RateAlert) Percent(bp int64) string { return percent(bp) }
