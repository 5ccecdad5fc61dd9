package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// reasonRow is one cancel reason on Settings' reasons card (or, without a
// key, the form adding one), its labels and code as typed, with the errors
// beside its fields by field name (label_en, label_zh-TW, code).
type reasonRow struct {
	Key         string
	EN, ZH      string
	Code        canceldesk.CancelReason
	Retired     bool
	First, Last bool
	Errors      map[string]string
}

// ID names the row's fields in the page: "reason-<key>", "new-reason".
func (r reasonRow) ID() string {
	if r.Key == "" {
		return "new-reason"
	}
	return "reason-" + r.Key
}

// Codes are Shopify's reason codes a reason can map to.
func (reasonRow) Codes() []canceldesk.CancelReason { return canceldesk.CancelReasons }

// reasonRows loads every reason, retired ones included, for the card.
func (s *Server) reasonRows(c *fiber.Ctx, p *settingsPage) error {
	all, err := s.Reasons.Reasons(c.UserContext(), true)
	if err != nil {
		return err
	}
	p.ReasonRows = nil
	for i, r := range all {
		p.ReasonRows = append(p.ReasonRows, reasonRow{Key: r.Key, EN: r.Labels["en"], ZH: r.Labels["zh-TW"], Code: r.Code,
			Retired: r.Retired, First: i == 0, Last: i == len(all)-1})
	}
	p.NewReason = reasonRow{Code: canceldesk.ReasonOther}
	return nil
}

// reasonForm reads a reason's labels and code as posted.
func reasonForm(c *fiber.Ctx, key string) reasonRow {
	return reasonRow{Key: key, EN: c.FormValue("label_en"), ZH: c.FormValue("label_zh-TW"), Code: canceldesk.CancelReason(c.FormValue("code"))}
}

// reasonAdd adds a reason at the end of the list; its key comes from its
// English label. A bad value comes back beside its field.
func (s *Server) reasonAdd(c *fiber.Ctx) error { return s.saveReason(c, "") }

// reasonSave changes a reason's labels and Shopify code; its key stays, so
// old cancellations follow the new label.
func (s *Server) reasonSave(c *fiber.Ctx) error { return s.saveReason(c, c.Params("key")) }

// saveReason adds (key "") or updates a reason.
func (s *Server) saveReason(c *fiber.Ctx, key string) error {
	row := reasonForm(c, key)
	r := canceldesk.ReasonOption{Key: key, Code: row.Code, Labels: map[string]string{"en": row.EN, "zh-TW": row.ZH}}
	var err error
	if key == "" {
		_, err = s.Reasons.AddReason(c.UserContext(), r)
	} else {
		_, err = s.Reasons.UpdateReason(c.UserContext(), r)
	}
	var de *canceldesk.Error
	switch {
	case err == nil:
		return redirect(c, "/settings?saved=reason#reasons")
	case !errors.As(err, &de) || de.Code != canceldesk.EINVALID || de.Key == "":
		return err
	}
	p, err := s.settingsView(c)
	if err != nil {
		return err
	}
	row.Errors = map[string]string{de.Field: localizer(c).T(de.Key, "Max", canceldesk.MaxReasonLabel)}
	if key == "" {
		p.NewReason = row
		return s.render(c, fiber.StatusBadRequest, "settings/index", "", p)
	}
	for i := range p.ReasonRows {
		if old := &p.ReasonRows[i]; old.Key == key {
			row.Retired, row.First, row.Last = old.Retired, old.First, old.Last
			*old = row
			return s.render(c, fiber.StatusBadRequest, "settings/index", "", p)
		}
	}
	return fiber.ErrNotFound
}

// reasonMove moves a reason one place up or down the dialog's list.
func (s *Server) reasonMove(c *fiber.Ctx) error {
	delta := 1
	if c.FormValue("dir") == "up" {
		delta = -1
	}
	if err := s.Reasons.MoveReason(c.UserContext(), c.Params("key"), delta); err != nil {
		return err
	}
	return redirect(c, "/settings?saved=reason#reasons")
}

// reasonRetire retires a reason (retired=1), so the dialogs no longer
// offer it while old cancellations keep its label, or restores it.
func (s *Server) reasonRetire(c *fiber.Ctx) error {
	if err := s.Reasons.RetireReason(c.UserContext(), c.Params("key"), c.FormValue("retired") == "1"); err != nil {
		return err
	}
	return redirect(c, "/settings?saved=reason#reasons")
}
