package canceldesk

import (
	"math/rand/v2"
	"testing"
	"time"
)

// rawOrder is what the test counts from directly.
type rawOrder struct {
	placed    time.Time
	cancelled *time.Time
	reason    CancelReason
}

// hourlyRows rolls raw orders up into UTC hours, as the store does.
func hourlyRows(orders []rawOrder) []StatsRow {
	type key struct {
		hour   time.Time
		reason CancelReason
	}
	m := map[key]*StatsRow{}
	row := func(k key) *StatsRow {
		if m[k] == nil {
			m[k] = &StatsRow{Bucket: k.hour, Currency: "USD", Reason: k.reason}
		}
		return m[k]
	}
	for _, o := range orders {
		row(key{o.placed.Truncate(time.Hour), ""}).Placed++
		if o.cancelled != nil {
			row(key{o.placed.Truncate(time.Hour), o.reason}).CohortCancelled++
			row(key{o.cancelled.Truncate(time.Hour), o.reason}).Cancelled++
		}
	}
	var out []StatsRow
	for _, r := range m {
		out = append(out, *r)
	}
	return out
}

// TestRateSeriesMatchesRawCounts: for both definitions and every
// grouping, each period's placed and cancelled counts equal what counting
// the raw orders by their local dates gives, in a time zone where the
// day starts at 16:00 UTC, with orders placed and cancelled right around
// those boundaries.
func TestRateSeriesMatchesRawCounts(t *testing.T) {
	taipei := time.FixedZone("Asia/Taipei", 8*3600)
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, taipei)
	r := rand.New(rand.NewPCG(7, 11))
	var orders []rawOrder
	for i := 0; i < 3000; i++ {
		placed := start.Add(time.Duration(r.IntN(60*24*60)) * time.Minute).UTC()
		if i%10 == 0 { // right at a local midnight, on either side
			day := start.AddDate(0, 0, r.IntN(60))
			placed = day.Add(time.Duration(r.IntN(3)-1) * time.Second).UTC()
		}
		o := rawOrder{placed: placed}
		if r.IntN(8) == 0 {
			c := placed.Add(time.Duration(r.IntN(72*60)) * time.Minute)
			o.cancelled, o.reason = &c, CancelReasons[r.IntN(len(CancelReasons))]
		}
		orders = append(orders, o)
	}
	rows := hourlyRows(orders)
	from, to := start.AddDate(0, 0, 3), start.AddDate(0, 0, 45)
	for _, g := range Groupings {
		for _, basis := range []RateBasis{BasisPlaced, BasisCancelled} {
			series := RateSeries(rows, from, to, taipei, g, basis)
			if len(series) == 0 || !series[0].Start.Equal(from) || !series[len(series)-1].End.Equal(to) {
				t.Fatalf("%s/%s: series starts %v", g, basis, series)
			}
			// Only the ends may be clipped, and are marked when they are.
			for i, p := range series {
				clipped := !p.Start.Equal(PeriodStart(p.Start, taipei, g)) || !p.End.Equal(NextPeriod(PeriodStart(p.Start, taipei, g), g))
				if p.Partial != clipped || clipped && i != 0 && i != len(series)-1 {
					t.Fatalf("%s/%s: point %d (%s–%s) partial %v, clipped %v", g, basis, i, p.Start, p.End, p.Partial, clipped)
				}
			}
			sum := SumFigures(rows, from, to, basis)
			var placed, cancelled int64
			for _, p := range series {
				placed, cancelled = placed+p.Placed, cancelled+p.Cancelled
			}
			if placed != sum.Placed || cancelled != sum.Cancelled {
				t.Fatalf("%s/%s: the periods add up to %d/%d, the range to %d/%d", g, basis, placed, cancelled, sum.Placed, sum.Cancelled)
			}
			for _, p := range series {
				var placed, cancelled int64
				byReason := map[CancelReason]int64{}
				for _, o := range orders {
					if !o.placed.Before(p.Start) && o.placed.Before(p.End) {
						placed++
					}
					if o.cancelled == nil {
						continue
					}
					at := *o.cancelled
					if basis == BasisPlaced {
						at = o.placed
					}
					if !at.Before(p.Start) && at.Before(p.End) {
						cancelled++
						byReason[o.reason]++
					}
				}
				if p.Placed != placed || p.Cancelled != cancelled {
					t.Fatalf("%s/%s %s: placed %d cancelled %d, raw %d and %d", g, basis, p.Start, p.Placed, p.Cancelled, placed, cancelled)
				}
				for reason, n := range byReason {
					if p.ByReason[reason] != n {
						t.Fatalf("%s/%s %s: %s %d, raw %d", g, basis, p.Start, reason, p.ByReason[reason], n)
					}
				}
				if placed > 0 && p.RateBP() != cancelled*10000/placed {
					t.Fatalf("rate %d", p.RateBP())
				}
			}
		}
	}
}

func TestPeriodStart(t *testing.T) {
	taipei := time.FixedZone("Asia/Taipei", 8*3600)
	at := time.Date(2026, 11, 29, 15, 59, 0, 0, time.UTC) // Sunday 23:59 in Taipei
	if got := PeriodStart(at, taipei, GroupDay); !got.Equal(time.Date(2026, 11, 29, 0, 0, 0, 0, taipei)) {
		t.Errorf("day = %v", got)
	}
	if got := PeriodStart(at, taipei, GroupWeek); !got.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, taipei)) {
		t.Errorf("week = %v (weeks start on Monday)", got)
	}
	if got := PeriodStart(at.Add(time.Minute), taipei, GroupWeek); !got.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, taipei)) {
		t.Errorf("a minute later the week is the next: %v", got)
	}
	if got := PeriodStart(at, taipei, GroupMonth); !got.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, taipei)) {
		t.Errorf("month = %v", got)
	}
}
