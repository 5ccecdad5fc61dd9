package handlers

import (
	"errors"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// analyticsPage is the cancellation dashboard.
type analyticsPage struct {
	Page
	Form     analyticsForm
	Errors   map[string]string
	From, To time.Time // the range shown, in the store's time zone; To is exclusive
	Points   []canceldesk.RatePoint
	Labels   []string // one per point
	Table    []rateRow
	Reasons  []canceldesk.CancelReason
	Chart    template.HTML
	Now      canceldesk.Figures
	Before   canceldesk.Figures // the period of the same length just before
	Sources  []string
	Ranges   []string
	Query    string // the form as a query string, for links that keep it
	Alert    *RateAlert
	// Unavailable says why the range's figures are not shown.
	Unavailable string
	Extra       canceldesk.ExtraFigures
	Feedback    []canceldesk.Feedback
	// FeedbackReason filters the comments; FeedbackReasons are the choices.
	FeedbackReason  string
	FeedbackReasons []string
	// The refund-later backlog now: how many, how much, since when.
	Backlog       int
	BacklogValue  map[string]int64
	BacklogOldest time.Time
}

// rateRow is a point of the chart as the table shows it, formatted once in
// Go: a year by day is 365 rows.
type rateRow struct{ Label, Placed, Cancelled, Rate string }

// feedbackLimit bounds the comments shown.
const feedbackLimit = 20

// analyticsForm is the dashboard's choices, as in the URL.
type analyticsForm struct {
	Range, From, To, Group, Basis string
}

var analyticsRanges = []string{"7", "30", "90", "365", "custom"}

// maxAnalyticsDays bounds a custom range.
const maxAnalyticsDays = 731

func readAnalyticsForm(c *fiber.Ctx) analyticsForm {
	f := analyticsForm{Range: c.Query("range", "30"), From: c.Query("from"), To: c.Query("to"),
		Group: c.Query("group", string(canceldesk.GroupDay)), Basis: c.Query("basis", string(canceldesk.BasisPlaced))}
	return f
}

// span works out the range [from, to) in loc from the form, or the field
// that is wrong.
func (f analyticsForm) span(now time.Time, loc *time.Location) (from, to time.Time, field, key string) {
	today := canceldesk.PeriodStart(now, loc, canceldesk.GroupDay)
	to = today.AddDate(0, 0, 1)
	if f.Range != "custom" {
		days, err := strconv.Atoi(f.Range)
		if err != nil || !slices.Contains(analyticsRanges, f.Range) {
			return from, to, "range", "validation.analytics_range"
		}
		return to.AddDate(0, 0, -days), to, "", ""
	}
	a, err1 := time.ParseInLocation("2006-01-02", f.From, loc)
	b, err2 := time.ParseInLocation("2006-01-02", f.To, loc)
	switch {
	case err1 != nil:
		return from, to, "from", "validation.date_format"
	case err2 != nil:
		return from, to, "to", "validation.date_format"
	case b.Before(a):
		return from, to, "to", "validation.date_order"
	case b.Sub(a) > maxAnalyticsDays*24*time.Hour:
		return from, to, "to", "validation.analytics_long"
	}
	return a, b.AddDate(0, 0, 1), "", ""
}

// analytics shows the cancellation rate chart, the figures beside the
// previous period, and the breakdowns. HTMX changes of range, grouping
// and definition get the body alone; the URL keeps them.
func (s *Server) analytics(c *fiber.Ctx) error {
	l := localizer(c)
	f := readAnalyticsForm(c)
	p := analyticsPage{Page: s.page(c, l.T("analytics.title"), "analytics"), Form: f, Errors: map[string]string{},
		Ranges: analyticsRanges, Alert: s.rateAlert(c),
		Sources: []string{canceldesk.SourceStaff, canceldesk.SourceCustomerRequest, canceldesk.SourceAutoApproved, canceldesk.SourceImport}}
	group, basis := canceldesk.Grouping(f.Group), canceldesk.RateBasis(f.Basis)
	if !slices.Contains(canceldesk.Groupings, group) {
		p.Errors["group"] = l.T("validation.analytics_group")
	}
	if basis != canceldesk.BasisPlaced && basis != canceldesk.BasisCancelled {
		p.Errors["basis"] = l.T("validation.analytics_basis")
	}
	from, to, field, key := f.span(s.Now(), s.Location)
	if field != "" {
		p.Errors[field] = l.T(key)
	}
	if len(p.Errors) > 0 {
		return s.render(c, fiber.StatusBadRequest, "analytics/index", "analytics/_body", p)
	}
	p.From, p.To = from, to
	before := from.Add(-to.Sub(from))
	rows, err := s.Stats.StatsDays(c.UserContext(), before, to, s.Location)
	if err != nil {
		return s.analyticsUnavailable(c, p, err)
	}
	p.Points = canceldesk.RateSeries(rows, from, to, s.Location, group, basis)
	p.Now = canceldesk.SumFigures(rows, from, to, basis)
	p.Before = canceldesk.SumFigures(rows, before, from, basis)
	p.Reasons = canceldesk.ReasonsByCount(p.Now.ByReason)
	if err := s.analyticsExtras(c, &p, from, to); err != nil {
		return s.analyticsUnavailable(c, p, err)
	}
	for _, pt := range p.Points {
		label := l.Date(pt.Start)
		if group == canceldesk.GroupMonth {
			label = l.MonthLabel(pt.Start)
		}
		p.Labels = append(p.Labels, label)
		p.Table = append(p.Table, rateRow{Label: label, Placed: l.Number(pt.Placed), Cancelled: l.Number(pt.Cancelled),
			Rate: percent(pt.RateBP())})
	}
	p.Chart = rateChart(l, p.Points, p.Reasons, p.Labels)
	q := url.Values{"range": {f.Range}, "group": {f.Group}, "basis": {f.Basis}}
	if f.Range == "custom" {
		q.Set("from", f.From)
		q.Set("to", f.To)
	}
	p.Query = q.Encode()
	return s.render(c, fiber.StatusOK, "analytics/index", "analytics/_body", p)
}

// analyticsUnavailable answers a range whose figures cannot be added up
// (a stored sum out of range, see canceldesk.ErrAmountOverflow) with the
// form and a notice in place of the figures, so the other ranges stay one
// click away; the detail goes to the log. Any other error is returned.
func (s *Server) analyticsUnavailable(c *fiber.Ctx, p analyticsPage, err error) error {
	if !errors.Is(err, canceldesk.ErrAmountOverflow) {
		return err
	}
	s.Logger.Error("analytics unavailable", "path", c.Path(), "from", p.From, "to", p.To, "err", err)
	p.Unavailable = localizer(c).T(canceldesk.ErrAmountOverflow.Key)
	return s.render(c, fiber.StatusOK, "analytics/index", "analytics/_body", p)
}

// Delta is how a figure moved against the previous period, in basis
// points of the rate (for the rate) or in units (for counts).
func (analyticsPage) Delta(now, before int64) int64 { return now - before }

// Percent writes basis points as a percentage.
func (analyticsPage) Percent(bp int64) string { return percent(bp) }

// analyticsExtras adds the figures the rollups do not keep: refunds, the
// time to cancel, requests, top SKUs, payment methods, the backlog and the
// customers' comments.
func (s *Server) analyticsExtras(c *fiber.Ctx, p *analyticsPage, from, to time.Time) error {
	ctx := c.UserContext()
	var err error
	if p.Extra, err = s.Analytics.ExtraFigures(ctx, from, to); err != nil {
		return err
	}
	p.FeedbackReasons = canceldesk.CustomerReasons
	if r := c.Query("feedback"); slices.Contains(canceldesk.CustomerReasons, r) {
		p.FeedbackReason = r
	}
	if p.Feedback, err = s.Analytics.Feedback(ctx, from, to, p.FeedbackReason, feedbackLimit); err != nil {
		return err
	}
	backlog, err := s.Refunds.BacklogSummary(ctx)
	if err != nil {
		return err
	}
	p.Backlog, p.BacklogValue, p.BacklogOldest = backlog.Count, backlog.Value, backlog.Oldest
	return nil
}

// ApprovalBP is the share of decided requests that were approved.
func (p analyticsPage) ApprovalBP() int64 {
	if p.Extra.Requests == 0 {
		return 0
	}
	return p.Extra.Approved * 10000 / p.Extra.Requests
}
