package handlers

import (
	"bytes"
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/i18n"
)

// reasonColors paint the stacked bars, one per Shopify reason.
var reasonColors = map[canceldesk.CancelReason]string{
	canceldesk.ReasonCustomer:  "#2f6fd6",
	canceldesk.ReasonInventory: "#d98a1c",
	canceldesk.ReasonFraud:     "#b42318",
	canceldesk.ReasonDeclined:  "#7a4fc4",
	canceldesk.ReasonStaff:     "#178a6a",
	canceldesk.ReasonOther:     "#8a8f96",
	"":                         "#8a8f96",
}

// chartSize is a chart's geometry, in SVG user units (the SVG scales to
// its box), and how it is told apart on the page.
type chartSize struct {
	class, suffix          string // CSS class; suffix of its ids, unique on the page
	w, h                   int
	padL, padR, padT, padB int
	xLabels                int // at most this many labels under the bars
	// spread puts the labels under the first and the last bar and evenly
	// between, the first starting and the last ending there, so no label
	// runs off the edge of a narrow chart.
	spread bool
}

var (
	// wideChart is drawn for screens wider than a phone.
	wideChart = chartSize{class: "rate-chart", w: 960, h: 300, padL: 48, padR: 56, padT: 16, padB: 40, xLabels: 8}
	// compactChart is drawn for a phone: about as many units as pixels, so
	// its labels keep their size, and fewer of them.
	compactChart = chartSize{class: "rate-chart-compact", suffix: "-compact", w: 360, h: 240, padL: 34, padR: 60, padT: 12, padB: 34, xLabels: 2, spread: true}
)

// rateChart draws cancellations per period as bars stacked by reason, with
// the cancellation rate as a line on its own axis (right). Every bar and
// point has a <title> (shown on hover) and the points can be focused, so
// the numbers are reachable without a mouse; the same numbers are in the
// table beside it. Drawn on the server: no script, no library.
//
// labels name the points. A year by day is 365 points: each translated
// text is looked up once, not per point.
//
// It draws the chart twice, wide and compact, and the stylesheet shows
// the one that suits the screen: scaled down to a phone, the wide one's
// labels would be too small to read.
func rateChart(l *i18n.Localizer, points []canceldesk.RatePoint, reasons []canceldesk.CancelReason, labels []string) template.HTML {
	return drawRateChart(l, points, reasons, labels, wideChart) + drawRateChart(l, points, reasons, labels, compactChart)
}

func drawRateChart(l *i18n.Localizer, points []canceldesk.RatePoint, reasons []canceldesk.CancelReason, labels []string, g chartSize) template.HTML {
	chartW, chartH, padL, padR, padT, padB := g.w, g.h, g.padL, g.padR, g.padT, g.padB
	var maxCancelled, maxBP int64
	for _, p := range points {
		maxCancelled = max(maxCancelled, p.Cancelled)
		maxBP = max(maxBP, p.RateBP())
	}
	maxCancelled = niceCeil(max(maxCancelled, 1))
	maxBP = niceCeil(max(maxBP, 100)) // at least 1%
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	n := max(len(points), 1)
	slot := plotW / float64(n)
	barW := max(slot*0.7, 1)
	y := func(v, top int64) float64 { return float64(padT) + plotH - plotH*float64(v)/float64(top) }

	var b bytes.Buffer
	b.Grow(len(points) * 400)
	var buf []byte // one element at a time, reused
	fmt.Fprintf(&b, `<svg class="%s" viewBox="0 0 %d %d" role="img" aria-labelledby="chart-title%s">`, g.class, chartW, chartH, g.suffix)
	fmt.Fprintf(&b, `<title id="chart-title%s">%s</title>`, g.suffix, template.HTMLEscapeString(l.T("analytics.chart_title")))
	// Grid and axes: up to 4 steps, on whole numbers of cancellations.
	steps := int64(4)
	if maxCancelled < steps {
		steps = maxCancelled
	} else if maxCancelled%steps != 0 {
		maxCancelled += steps - maxCancelled%steps
	}
	for i := int64(0); i <= steps; i++ {
		yy := float64(padT) + plotH - plotH*float64(i)/float64(steps)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, yy, yy)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-6, yy+4, l.Number(maxCancelled*i/steps))
		fmt.Fprintf(&b, `<text class="axis axis-rate" x="%d" y="%.1f">%s</text>`, chartW-padR+6, yy+4,
			template.HTMLEscapeString(percent(maxBP*i/steps)))
	}
	// Bars, stacked by reason.
	reasonNames := make(map[canceldesk.CancelReason]string, len(reasons))
	for _, r := range reasons {
		reasonNames[r] = l.T("reason." + string(r))
	}
	// A period clipped to the range is hatched and lighter, and says so
	// in its texts.
	partial := l.T("analytics.partial")
	period := func(i int) string {
		if points[i].Partial {
			return labels[i] + " (" + partial + ")"
		}
		return labels[i]
	}
	fmt.Fprintf(&b, `<defs><pattern id="partial-hatch%s" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">`+
		`<rect class="hatch" width="3" height="6"/></pattern></defs>`, g.suffix)
	for i, p := range points {
		x := float64(padL) + slot*float64(i) + (slot-barW)/2
		class := "bar"
		if p.Partial {
			class = "bar bar-partial"
		}
		var below int64
		for _, r := range reasons {
			v := p.ByReason[r]
			if v == 0 {
				continue
			}
			y0, y1 := y(below+v, maxCancelled), y(below, maxCancelled)
			buf = append(buf[:0], `<rect class="`...)
			buf = append(buf, class...)
			buf = appendAttr(buf, `" x="`, x)
			buf = appendAttr(buf, ` y="`, y0)
			buf = appendAttr(buf, ` width="`, barW)
			buf = appendAttr(buf, ` height="`, y1-y0)
			buf = append(buf, ` fill="`...)
			buf = append(buf, reasonColors[r]...)
			buf = append(buf, `"><title>`...)
			b.Write(buf)
			template.HTMLEscape(&b, []byte(period(i)))
			b.WriteString(" · ")
			template.HTMLEscape(&b, []byte(reasonNames[r]))
			b.WriteString(": ")
			template.HTMLEscape(&b, []byte(l.Number(v)))
			b.WriteString(`</title></rect>`)
			below += v
		}
		if p.Partial && below > 0 {
			y0 := y(below, maxCancelled)
			fmt.Fprintf(&b, `<rect class="partial-hatch" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="url(#partial-hatch%s)"/>`,
				x, y0, barW, y(0, maxCancelled)-y0, g.suffix)
		}
	}
	// The rate line and its points.
	b.WriteString(`<path class="rate-line" d="`)
	for i, p := range points {
		cx, cy := float64(padL)+slot*(float64(i)+0.5), y(p.RateBP(), maxBP)
		if i == 0 {
			buf = append(buf[:0], 'M')
		} else {
			buf = append(buf[:0], " L"...)
		}
		buf = strconv.AppendFloat(buf, cx, 'f', 1, 64)
		buf = append(buf, ' ')
		buf = strconv.AppendFloat(buf, cy, 'f', 1, 64)
		b.Write(buf)
	}
	b.WriteString(`"/>`)
	// The point's text, translated once with markers that each point
	// fills: split at the markers once, not searched per point.
	parts := splitMarkers(l.T("analytics.point", "Period", "\x00P", "Rate", "\x00R", "Cancelled", "\x00C", "Placed", "\x00N"))
	for i, p := range points {
		cx, cy := float64(padL)+slot*(float64(i)+0.5), y(p.RateBP(), maxBP)
		buf = appendAttr(append(buf[:0], `<circle class="rate-point"`...), ` cx="`, cx)
		buf = appendAttr(buf, ` cy="`, cy)
		buf = append(buf, ` r="4" tabindex="0"><title>`...)
		b.Write(buf)
		for _, part := range parts {
			var text string
			switch part {
			case "\x00P":
				text = period(i)
			case "\x00R":
				text = percent(p.RateBP())
			case "\x00C":
				text = l.Number(p.Cancelled)
			case "\x00N":
				text = l.Number(p.Placed)
			default:
				text = part
			}
			template.HTMLEscape(&b, []byte(text))
		}
		b.WriteString(`</title></circle>`)
	}
	// X labels: at most g.xLabels, evenly spaced, so long dates (zh-TW) fit.
	xLabel := func(i int, anchor string) {
		cx := float64(padL) + slot*(float64(i)+0.5)
		fmt.Fprintf(&b, `<text class="axis axis-x" x="%.1f" y="%d" text-anchor="%s">%s</text>`, cx, chartH-padB+18, anchor,
			template.HTMLEscapeString(labels[i]))
	}
	if n := min(g.xLabels, len(points)); g.spread && n > 1 {
		for k := range n {
			anchor := "middle"
			switch k {
			case 0:
				anchor = "start"
			case n - 1:
				anchor = "end"
			}
			xLabel(k*(len(points)-1)/(n-1), anchor)
		}
	} else {
		step := max(1, (len(points)+g.xLabels-1)/g.xLabels)
		for i := 0; i < len(points); i += step {
			xLabel(i, "middle")
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped
}

// appendAttr appends name (` x="`, with its opening quote) and v with one
// decimal, as %.1f would, and the closing quote.
func appendAttr(buf []byte, name string, v float64) []byte {
	buf = append(buf, name...)
	buf = strconv.AppendFloat(buf, v, 'f', 1, 64)
	return append(buf, '"')
}

// splitMarkers splits text at the markers \x00P, \x00R, \x00C and \x00N,
// keeping each marker as a part of its own.
func splitMarkers(text string) []string {
	var parts []string
	for {
		i := strings.IndexByte(text, 0)
		if i < 0 || i+1 >= len(text) {
			return append(parts, text)
		}
		if i > 0 {
			parts = append(parts, text[:i])
		}
		parts, text = append(parts, text[i:i+2]), text[i+2:]
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v int64) int64 {
	p := int64(1)
	for {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= v {
				return m * p
			}
		}
		p *= 10
	}
}

// percent writes basis points as a percentage with one decimal: 1234 → "12.3%".
func percent(bp int64) string {
	return fmt.Sprintf("%d.%d%%", bp/100, (bp%100)/10)
}
