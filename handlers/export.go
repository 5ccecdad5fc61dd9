package handlers

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// exportHeader is the header row of the cancellations CSV.
var exportHeader = []string{"order", "placed_at", "cancelled_at", "reason_code", "reason", "staff_note", "source",
	"refund_status", "refunded", "currency", "restocked_units", "actor"}

// exportCancellations sends the orders cancelled in the dashboard's range
// (the same query parameters as /analytics) as CSV, oldest cancel first.
// Times are RFC 3339 in the store's time zone; every text cell goes through
// canceldesk.SafeCell so a spreadsheet never runs it as a formula.
func (s *Server) exportCancellations(c *fiber.Ctx) error {
	filter, errs := readAnalyticsForm(c).filter(s.Now(), s.Location, analyticsFilter{})
	for _, field := range []string{"range", "from", "to", "group", "basis"} {
		if key := errs[field]; key != "" {
			return &canceldesk.Error{Code: canceldesk.EINVALID, Field: field, Key: key, Message: "Choose a valid date range."}
		}
	}
	from, to := filter.From, filter.To
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(exportHeader); err != nil {
		return err
	}
	stamp := func(t time.Time) string { return t.In(s.Location).Format(time.RFC3339) }
	err := s.Export.ExportCancellations(c.UserContext(), from, to, func(r canceldesk.ExportRow) error {
		cells := []string{
			r.Order, stamp(r.PlacedAt), stamp(r.CancelledAt), strings.ToUpper(string(r.Reason)), r.ReasonLabel,
			r.StaffNote, r.Source, r.RefundStatus, canceldesk.Money{Amount: r.Refunded, Currency: r.Currency}.Decimal(),
			r.Currency, strconv.Itoa(r.RestockedUnits), r.Actor,
		}
		for i := range cells {
			cells[i] = canceldesk.SafeCell(cells[i])
		}
		return w.Write(cells)
	})
	if err != nil {
		return err
	}
	if w.Flush(); w.Error() != nil {
		return w.Error()
	}
	// The file is named by the days it holds: to is exclusive.
	day := func(t time.Time) string { return t.In(s.Location).Format("2006-01-02") }
	name := fmt.Sprintf("cancellations-%s-%s.csv", day(from), day(to.AddDate(0, 0, -1)))
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusOK).Send(buf.Bytes())
}
