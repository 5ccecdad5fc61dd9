package handlers

import (
	"bytes"
	"errors"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/i18n"
)

// analyticsPage is the cancellation dashboard.
type analyticsPage struct {
	Page
	Form   analyticsForm // as typed, shown back in the form
	Errors map[string]string
	// Filter is what the figures show: the form when it is valid, else
	// the last good choice for the fields that are wrong (see Kept).
	Filter analyticsFilter
	analyticsFigures
	Sources []string
	Ranges  []string
	// Kept names the range still shown while the form's range is wrong.
	Kept  string
	Alert *RateAlert
	// Unavailable says why the range's figures are not shown.
	Unavailable string
	// The refund-later backlog now: how many, how much, since when.
	Backlog       int
	BacklogValue  map[string]int64
	BacklogOldest time.Time
}

// analyticsFigures are the figures, table and chart of one range, the
// same for every reader of a language: kept for a while (Server.analyticsFig)
// and shared, so never changed once made.
type analyticsFigures struct {
	Points []canceldesk.RatePoint
	Labels []string // one per point
	Table  []rateRow
	// TableRows are the table's rows, rendered once (views/analytics/_rows).
	TableRows template.HTML
	Reasons   []canceldesk.CancelReason
	Chart     template.HTML
	Now       canceldesk.Figures
	Before    canceldesk.Figures // the period of the same length just before
	Extra     canceldesk.ExtraFigures
	Feedback  []canceldesk.Feedback
	// FeedbackReason filters the comments; FeedbackReasons are the choices.
	FeedbackReason  string
	FeedbackReasons []string
	backlog         canceldesk.BacklogSummary
}

// tableRowsView is what views/analytics/_rows renders.
type tableRowsView struct {
	L     *i18n.Localizer
	Table []rateRow
}

// rateRow is a point of the chart as the table shows it, formatted once in
// Go: a year by day is 365 rows. Note says which days of a partial period
// are in the range.
type rateRow struct {
	Label, Placed, Cancelled, Rate string
	Partial                        bool
	Note                           string
}

// feedbackLimit bounds the comments shown.
const feedbackLimit = 20

// analyticsForm is the dashboard's choices, as typed in the URL.
type analyticsForm struct {
	Range, From, To, Group, Basis string
}

// analyticsFilter is a valid choice of the dashboard: the range [From, To)
// of local midnights in the store's time zone, the grouping and the basis.
// Values is the one way from a filter to a URL, for the page's own links
// and the export alike.
type analyticsFilter struct {
	Range    string // one of analyticsRanges
	From, To time.Time
	Group    canceldesk.Grouping
	Basis    canceldesk.RateBasis
}

var analyticsRanges = []string{"7", "30", "90", "365", "custom"}

const (
	// maxAnalyticsDays bounds a custom range.
	maxAnalyticsDays = 731
	// defaultAnalyticsRange is the range of a bare /analytics.
	defaultAnalyticsRange = "30"
	dateLayout            = "2006-01-02"
)

// Values is the filter as the query of /analytics and /analytics/export.
func (f analyticsFilter) Values() url.Values {
	q := url.Values{"range": {f.Range}, "group": {string(f.Group)}, "basis": {string(f.Basis)}}
	if f.Range == "custom" {
		q.Set("from", f.From.Format(dateLayout))
		q.Set("to", f.To.AddDate(0, 0, -1).Format(dateLayout)) // the form's to is the last day
	}
	return q
}

// URL is path with the filter as its query.
func (f analyticsFilter) URL(path string) string { return path + "?" + f.Values().Encode() }

// defaultAnalyticsFilter is the last 30 days by day, counted by the date
// orders were placed.
func defaultAnalyticsFilter(now time.Time, loc *time.Location) analyticsFilter {
	f, _ := analyticsForm{Range: defaultAnalyticsRange}.filter(now, loc, analyticsFilter{})
	return f
}

func readAnalyticsForm(c *fiber.Ctx) analyticsForm {
	return analyticsFormOf(func(key string) string { return c.Query(key) })
}

// analyticsFormOf reads the form from a query, with the defaults of a
// bare /analytics.
func analyticsFormOf(get func(key string) string) analyticsForm {
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	return analyticsForm{Range: or(get("range"), defaultAnalyticsRange), From: get("from"), To: get("to"),
		Group: or(get("group"), string(canceldesk.GroupDay)), Basis: or(get("basis"), string(canceldesk.BasisPlaced))}
}

// filter checks the form against today in loc and returns its filter and
// the message key of each field that is wrong. A wrong field takes its
// part of fallback: the range (range, from and to) as one.
func (f analyticsForm) filter(now time.Time, loc *time.Location, fallback analyticsFilter) (analyticsFilter, map[string]string) {
	errs := map[string]string{}
	out := analyticsFilter{Range: f.Range, Group: canceldesk.Grouping(f.Group), Basis: canceldesk.RateBasis(f.Basis)}
	if !slices.Contains(canceldesk.Groupings, out.Group) {
		errs["group"], out.Group = "validation.analytics_group", fallback.Group
	}
	if out.Basis != canceldesk.BasisPlaced && out.Basis != canceldesk.BasisCancelled {
		errs["basis"], out.Basis = "validation.analytics_basis", fallback.Basis
	}
	tomorrow := canceldesk.PeriodStart(now, loc, canceldesk.GroupDay).AddDate(0, 0, 1)
	var ok bool
	if out.From, out.To, ok = f.span(tomorrow, loc, errs); !ok {
		out.Range, out.From, out.To = fallback.Range, fallback.From, fallback.To
	}
	return out, errs
}

// span works out the form's range [from, to) of local midnights, up to
// tomorrow's, adding the key of each wrong field to errs.
func (f analyticsForm) span(tomorrow time.Time, loc *time.Location, errs map[string]string) (from, to time.Time, ok bool) {
	if f.Range != "custom" {
		days, err := strconv.Atoi(f.Range)
		if err != nil || !slices.Contains(analyticsRanges, f.Range) {
			errs["range"] = "validation.analytics_range"
			return from, to, false
		}
		return tomorrow.AddDate(0, 0, -days), tomorrow, true
	}
	day := func(field, v string) time.Time {
		if v == "" {
			errs[field] = "validation.date_required"
			return time.Time{}
		}
		d, err := time.ParseInLocation(dateLayout, v, loc)
		if err != nil {
			errs[field] = "validation.date_format"
		} else if !d.Before(tomorrow) {
			errs[field] = "validation.date_future"
		}
		return d
	}
	a, b := day("from", f.From), day("to", f.To)
	if errs["from"] != "" || errs["to"] != "" {
		return from, to, false
	}
	switch {
	case b.Before(a):
		errs["to"] = "validation.date_order"
	case b.Sub(a) > maxAnalyticsDays*24*time.Hour:
		errs["to"] = "validation.analytics_long"
	default:
		return a, b.AddDate(0, 0, 1), true
	}
	return from, to, false
}

// shownFilter is the filter the page showed before this request (the
// address htmx reports, or the page that linked here) when it is a valid
// one, else the default: a choice that is refused keeps showing it.
func (s *Server) shownFilter(c *fiber.Ctx) analyticsFilter {
	def := defaultAnalyticsFilter(s.Now(), s.Location)
	for _, addr := range []string{c.Get("HX-Current-URL"), c.Get(fiber.HeaderReferer)} {
		u, err := url.Parse(addr)
		if addr == "" || err != nil || u.Path != "/analytics" {
			continue
		}
		q := u.Query()
		if f, errs := analyticsFormOf(q.Get).filter(s.Now(), s.Location, def); len(errs) == 0 {
			return f
		}
	}
	return def
}

// analytics shows the cancellation rate chart, the figures beside the
// previous period, and the breakdowns. HTMX changes of range, grouping
// and definition get the body alone (and the form's field errors); the URL
// keeps them. A wrong choice is refused beside its field while the page
// keeps showing the last good one.
func (s *Server) analytics(c *fiber.Ctx) error {
	l := localizer(c)
	f := readAnalyticsForm(c)
	p := analyticsPage{Page: s.page(c, l.T("analytics.title"), "analytics"), Form: f, Errors: map[string]string{},
		Ranges: analyticsRanges, Alert: s.rateAlert(c),
		Sources: append(slices.Clone(canceldesk.CancelSources), canceldesk.SourceImport)}
	status := fiber.StatusOK
	filter, errs := f.filter(s.Now(), s.Location, defaultAnalyticsFilter(s.Now(), s.Location))
	if len(errs) > 0 {
		filter, _ = f.filter(s.Now(), s.Location, s.shownFilter(c))
		for field, key := range errs {
			p.Errors[field] = l.T(key)
		}
		if errs["range"] != "" || errs["from"] != "" || errs["to"] != "" {
			p.Kept = l.T("analytics.kept", "Range", s.rangeName(l, filter))
		}
		status = fiber.StatusBadRequest
		keepURL(c)
	}
	p.Filter = filter
	key := l.Lang() + "|" + s.Location.String() + "|" + filter.From.String() + "|" + filter.To.String() + "|" +
		filter.Values().Encode() + "|" + c.Query("feedback")
	fig, err := s.analyticsFig.getOrMake(key, s.Now, func() (analyticsFigures, error) {
		return s.analyticsFigures(c, l, filter)
	})
	if err != nil {
		return s.analyticsUnavailable(c, p, err)
	}
	p.analyticsFigures = fig
	p.Backlog, p.BacklogValue, p.BacklogOldest = fig.backlog.Count, fig.backlog.Value, fig.backlog.Oldest
	return s.render(c, status, "analytics/index", "analytics/_update", p)
}

// analyticsFigures works out the figures, table and chart of filter.
func (s *Server) analyticsFigures(c *fiber.Ctx, l *i18n.Localizer, filter analyticsFilter) (analyticsFigures, error) {
	var p analyticsFigures
	from, to, group, basis := filter.From, filter.To, filter.Group, filter.Basis
	before := from.Add(-to.Sub(from))
	rows, err := s.Stats.StatsDays(c.UserContext(), before, to, s.Location)
	if err != nil {
		return p, err
	}
	p.Points = canceldesk.RateSeries(rows, from, to, s.Location, group, basis)
	p.Now = canceldesk.SumFigures(rows, from, to, basis)
	p.Before = canceldesk.SumFigures(rows, before, from, basis)
	p.Reasons = canceldesk.ReasonsByCount(p.Now.ByReason)
	if err := s.analyticsExtras(c, &p, from, to); err != nil {
		return p, err
	}
	for _, pt := range p.Points {
		label := l.Date(pt.Start)
		if group == canceldesk.GroupMonth {
			label = l.MonthLabel(pt.Start)
		}
		p.Labels = append(p.Labels, label)
		row := rateRow{Label: label, Placed: l.Number(pt.Placed), Cancelled: l.Number(pt.Cancelled),
			Rate: percent(pt.RateBP()), Partial: pt.Partial}
		if pt.Partial {
			row.Note = l.T("analytics.partial_note", "From", l.Date(pt.Start), "To", l.Date(pt.End.AddDate(0, 0, -1)))
		}
		p.Table = append(p.Table, row)
	}
	p.Chart = rateChart(l, p.Points, p.Reasons, p.Labels)
	var tableRows bytes.Buffer
	if err := s.views.Render(&tableRows, "analytics/_rows", tableRowsView{L: l, Table: p.Table}); err != nil {
		return p, err
	}
	p.TableRows = template.HTML(tableRows.String()) // rendered by html/template, escaped
	return p, nil
}

// rangeName names a filter's range: "30 days", or its first and last day.
func (s *Server) rangeName(l *i18n.Localizer, f analyticsFilter) string {
	if f.Range != "custom" {
		return l.T("analytics.range." + f.Range)
	}
	return l.Date(f.From) + " – " + l.Date(f.To.AddDate(0, 0, -1))
}

// ExportURL downloads the cancellations of the range shown.
func (p analyticsPage) ExportURL() string { return p.Filter.URL("/analytics/export") }

// FeedbackURL is the page shown with the comments of one customer reason
// ("" = all).
func (p analyticsPage) FeedbackURL(reason string) string {
	q := p.Filter.Values()
	if reason != "" {
		q.Set("feedback", reason)
	}
	return "/analytics?" + q.Encode()
}

// HasPartial says whether a period of the chart is clipped to the range.
func (p analyticsPage) HasPartial() bool {
	return slices.ContainsFunc(p.Points, func(pt canceldesk.RatePoint) bool { return pt.Partial })
}

// LastDay is the last day of the range shown (To is exclusive).
func (p analyticsPage) LastDay() time.Time { return p.Filter.To.AddDate(0, 0, -1) }

// analyticsUnavailable answers a range whose figures cannot be added up
// (a stored sum out of range, see canceldesk.ErrAmountOverflow) with the
// form and a notice in place of the figures, so the other ranges stay one
// click away; the detail goes to the log. Any other error is returned.
func (s *Server) analyticsUnavailable(c *fiber.Ctx, p analyticsPage, err error) error {
	if !errors.Is(err, canceldesk.ErrAmountOverflow) {
		return err
	}
	s.Logger.Error("analytics unavailable", "path", c.Path(), "from", p.Filter.From, "to", p.Filter.To, "err", err)
	p.Unavailable = localizer(c).T(canceldesk.ErrAmountOverflow.Key)
	return s.render(c, fiber.StatusOK, "analytics/index", "analytics/_update", p)
}

// Delta is how a figure moved against the previous period, in basis
// points of the rate (for the rate) or in units (for counts).
func (analyticsPage) Delta(now, before int64) int64 { return now - before }

// Percent writes basis points as a percentage.
func (analyticsPage) Percent(bp int64) string { return percent(bp) }

// analyticsExtras adds the figures the rollups do not keep: refunds, the
// time to cancel, requests, top SKUs, payment methods, the backlog and the
// customers' comments.
func (s *Server) analyticsExtras(c *fiber.Ctx, p *analyticsFigures, from, to time.Time) error {
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
	p.backlog, err = s.Refunds.BacklogSummary(ctx)
	return err
}

// ApprovalBP is the share of decided requests that were approved.
func (p analyticsPage) ApprovalBP() int64 {
	if p.Extra.Requests == 0 {
		return 0
	}
	return p.Extra.Approved * 10000 / p.Extra.Requests
}
