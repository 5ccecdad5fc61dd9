package canceldesk

import (
	"context"
	"slices"
	"time"
)

// Grouping is the period of one point of the cancellation-rate chart.
type Grouping string

const (
	GroupDay   Grouping = "day"
	GroupWeek  Grouping = "week" // weeks start on Monday
	GroupMonth Grouping = "month"
)

// Groupings lists the groupings in the chart's order.
var Groupings = []Grouping{GroupDay, GroupWeek, GroupMonth}

// RateBasis says which date puts a cancellation in a period.
type RateBasis string

const (
	// BasisPlaced (cohort): of the orders placed in the period, the share
	// cancelled since.
	BasisPlaced RateBasis = "placed"
	// BasisCancelled: cancellations made in the period ÷ orders placed in it.
	BasisCancelled RateBasis = "cancelled"
)

// Cancellation sources, as the analytics tell them apart: where a cancel
// came from, stored with it (cancellations.source) when it is made.
const (
	SourceStaff           = "staff"            // the cancel dialog
	SourceCustomerRequest = "customer_request" // staff approving a customer's request
	SourceAutoApproved    = "auto_approved"    // the auto-approval rule
	SourceBulk            = "bulk"             // a bulk cancel from the list
	SourceImport          = "import"           // came in cancelled (no cancellation row)
)

// CancelSources are the sources a cancel made here can carry, in the
// order the analytics list them (then SourceImport).
var CancelSources = []string{SourceStaff, SourceBulk, SourceCustomerRequest, SourceAutoApproved}

// StatsRow is one period (a UTC hour, or a day of the store's time zone)
// of the analytics rollups for one currency, reason and source. Placed rows have no reason and no source;
// CohortCancelled counts orders placed in this hour and cancelled since
// (with that reason and source), Cancelled counts cancellations made in
// this hour.
type StatsRow struct {
	Bucket          time.Time // the period's start (in UTC)
	Currency        string
	Reason          CancelReason
	Source          string
	Placed          int64
	PlacedValue     int64
	CohortCancelled int64
	Cancelled       int64
	CancelledValue  int64
}

// RatePoint is one period of the chart.
type RatePoint struct {
	Start, End time.Time // in the store's time zone; End is the next period's start
	// Partial says the period runs past the range: Start and End are then
	// clipped to the range, and the point counts only its days in it.
	Partial   bool
	Placed    int64
	Cancelled int64
	ByReason  map[CancelReason]int64
}

// RateBP is the cancellation rate in basis points (1/100 of a percent),
// rounded down; 0 when nothing was placed.
func (p RatePoint) RateBP() int64 { return rateBP(p.Cancelled, p.Placed) }

func rateBP(cancelled, placed int64) int64 {
	if placed <= 0 {
		return 0
	}
	return cancelled * 10000 / placed
}

// PeriodStart is the start of the period of g holding t, in loc.
func PeriodStart(t time.Time, loc *time.Location, g Grouping) time.Time {
	t = t.In(loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	switch g {
	case GroupWeek:
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case GroupMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	}
	return day
}

// NextPeriod is the start of the period after start.
func NextPeriod(start time.Time, g Grouping) time.Time {
	switch g {
	case GroupWeek:
		return start.AddDate(0, 0, 7)
	case GroupMonth:
		return start.AddDate(0, 1, 0)
	}
	return start.AddDate(0, 0, 1)
}

// RateSeries turns hourly rollups into the chart's periods from the
// period holding from up to the one holding the instant before to, in
// loc, counting cancellations by basis. Every period is present, even
// empty ones. The first and last periods are clipped to [from, to) and
// marked Partial when they run past it, and only rows in [from, to) are
// counted, so the periods add up to SumFigures of the same range. Hours
// are exact for time zones a whole number of hours from UTC.
func RateSeries(rows []StatsRow, from, to time.Time, loc *time.Location, g Grouping, basis RateBasis) []RatePoint {
	var out []RatePoint
	index := map[time.Time]int{}
	for s := PeriodStart(from, loc, g); s.Before(to); s = NextPeriod(s, g) {
		index[s] = len(out)
		p := RatePoint{Start: s, End: NextPeriod(s, g), ByReason: map[CancelReason]int64{}}
		if p.Start.Before(from) {
			p.Start, p.Partial = from.In(loc), true
		}
		if p.End.After(to) {
			p.End, p.Partial = to.In(loc), true
		}
		out = append(out, p)
	}
	for _, r := range rows {
		if r.Bucket.Before(from) || !r.Bucket.Before(to) {
			continue
		}
		i, ok := index[PeriodStart(r.Bucket, loc, g)]
		if !ok {
			continue
		}
		p := &out[i]
		p.Placed += r.Placed
		n := r.Cancelled
		if basis == BasisPlaced {
			n = r.CohortCancelled
		}
		if n != 0 {
			p.Cancelled += n
			p.ByReason[r.Reason] += n
		}
	}
	return out
}

// Figures are the headline numbers of a range.
type Figures struct {
	Placed, Cancelled int64
	// CancelledValue is per currency.
	CancelledValue map[string]int64
	BySource       map[string]int64
	ByReason       map[CancelReason]int64
}

// RateBP is the range's cancellation rate in basis points.
func (f Figures) RateBP() int64 { return rateBP(f.Cancelled, f.Placed) }

// SumFigures adds up the rollups of hours in [from, to) by basis.
func SumFigures(rows []StatsRow, from, to time.Time, basis RateBasis) Figures {
	f := Figures{CancelledValue: map[string]int64{}, BySource: map[string]int64{}, ByReason: map[CancelReason]int64{}}
	for _, r := range rows {
		if r.Bucket.Before(from) || !r.Bucket.Before(to) {
			continue
		}
		f.Placed += r.Placed
		n := r.Cancelled
		if basis == BasisPlaced {
			n = r.CohortCancelled
		}
		if n == 0 {
			continue
		}
		f.Cancelled += n
		f.BySource[r.Source] += n
		f.ByReason[r.Reason] += n
		if basis == BasisCancelled {
			f.CancelledValue[r.Currency] += r.CancelledValue
		}
	}
	return f
}

// ReasonsByCount lists the reasons of m, most first (then in Shopify's
// order), for legends and breakdowns.
func ReasonsByCount(m map[CancelReason]int64) []CancelReason {
	var out []CancelReason
	for r, n := range m {
		if n > 0 {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b CancelReason) int {
		if m[a] != m[b] {
			if m[a] > m[b] {
				return -1
			}
			return 1
		}
		return slices.Index(CancelReasons, a) - slices.Index(CancelReasons, b)
	})
	return out
}

// StatsStore reads the analytics rollups.
type StatsStore interface {
	// StatsRows returns the rollup rows of the hours in [from, to), oldest
	// first.
	StatsRows(ctx context.Context, from, to time.Time) ([]StatsRow, error)
	// StatsDays returns the rollup rows of the days of loc that start in
	// [from, to), oldest first; Bucket is the day's local midnight. A day
	// holds the hours that start in it.
	StatsDays(ctx context.Context, from, to time.Time, loc *time.Location) ([]StatsRow, error)
}
