package handlers

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// settingsPage is the managers' settings form.
type settingsPage struct {
	Page
	Settings  canceldesk.Settings
	Locations []canceldesk.Location
	Limits    []limitRow
	Errors    map[string]string
	Saved     bool
	SavedKey  string // the catalogue key of the toast after saving
	// DefaultLocationID is where dialogs restock by default (see
	// defaultLocation), marked on the stock locations card.
	DefaultLocationID int64
	// The stock locations card: each location's name as typed, and the
	// name of a new one.
	LocationRows []locationRow
	NewLocation  string
	// The auto-approval rule of customer requests, as typed.
	Rule      canceldesk.AutoApproval
	RuleTotal []limitRow
	RuleTags  string
	RuleAge   string
	AlertRate string // the alert threshold as typed, in percent
	// Shopify is the card of the Shopify connection.
	Shopify *shopifyCard
	// Languages customers may be written in, for the default language.
	Languages []string
}

// limitRow is one currency's staff refund limit, as typed.
type limitRow struct {
	Currency, Amount, Field string
}

// locationRow is one stock location on Settings, its name as typed.
type locationRow struct {
	ID                 int64
	Name, Field, Error string
}

// settingsCurrencies are offered for limits besides those already set.
var settingsCurrencies = []string{"TWD", "USD"}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

func (s *Server) settingsView(c *fiber.Ctx) (settingsPage, error) {
	ctx := c.UserContext()
	st, err := s.Refunds.Settings(ctx)
	if err != nil {
		return settingsPage{}, err
	}
	locs, err := s.Store.Locations(ctx)
	if err != nil {
		return settingsPage{}, err
	}
	l := localizer(c)
	p := settingsPage{Page: s.page(c, l.T("settings.title"), "settings"), Settings: st, Locations: locs,
		Errors: map[string]string{}, Saved: c.Query("saved") != "", SavedKey: "settings.saved",
		DefaultLocationID: defaultLocation(st, locs), Languages: canceldesk.MessageLanguages}
	switch c.Query("saved") {
	case "location":
		p.SavedKey = "settings.location_saved"
	case "shopify":
		p.SavedKey = "settings.shopify.sync_started"
	}
	for _, loc := range locs {
		p.LocationRows = append(p.LocationRows, locationRow{ID: loc.ID, Name: loc.Name, Field: "location_" + strconv.FormatInt(loc.ID, 10)})
	}
	curs := slices.Clone(settingsCurrencies)
	if !slices.Contains(curs, s.Currency) {
		curs = append(curs, s.Currency)
	}
	for cur := range st.StaffRefundLimit {
		if !slices.Contains(curs, cur) {
			curs = append(curs, cur)
		}
	}
	slices.Sort(curs)
	if p.Rule, err = s.Requests.AutoApproval(ctx); err != nil {
		return settingsPage{}, err
	}
	if err := s.shopifySettings(c, &p); err != nil {
		return settingsPage{}, err
	}
	p.RuleAge, p.RuleTags = strconv.Itoa(p.Rule.MaxAgeMinutes), strings.Join(p.Rule.ExcludeTags, ", ")
	if st.AlertRateBP > 0 {
		p.AlertRate = canceldesk.Money{Amount: st.AlertRateBP, Currency: "USD"}.Decimal()
	}
	for _, cur := range curs {
		row := limitRow{Currency: cur, Field: "max_total_" + cur}
		if v := p.Rule.MaxTotal[cur]; v > 0 {
			row.Amount = canceldesk.Money{Amount: v, Currency: cur}.Decimal()
		}
		p.RuleTotal = append(p.RuleTotal, row)
	}
	for _, cur := range curs {
		row := limitRow{Currency: cur, Field: "limit_" + cur}
		if v := st.StaffRefundLimit[cur]; v > 0 {
			row.Amount = canceldesk.Money{Amount: v, Currency: cur}.Decimal()
		}
		p.Limits = append(p.Limits, row)
	}
	return p, nil
}

// settingsForm shows the settings.
func (s *Server) settingsForm(c *fiber.Ctx) error {
	p, err := s.settingsView(c)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "settings/index", "", p)
}

// settingsSave stores the settings; a bad value comes back beside its
// field and nothing is saved.
func (s *Server) settingsSave(c *fiber.Ctx) error {
	p, err := s.settingsView(c)
	if err != nil {
		return err
	}
	l := localizer(c)
	st := canceldesk.Settings{RestockOnCancel: c.FormValue("restock_on_cancel") != "", StaffRefundLimit: map[string]int64{},
		StoreName: strings.TrimSpace(c.FormValue("store_name")), ReplyTo: strings.TrimSpace(c.FormValue("reply_to")),
		LogoURL: strings.TrimSpace(c.FormValue("logo_url")), AccentColor: strings.ToLower(strings.TrimSpace(c.FormValue("accent_color"))),
		ContactEmail: strings.TrimSpace(c.FormValue("contact_email")), DefaultLanguage: c.FormValue("default_language")}
	if a := st.AccentColor; canceldesk.ValidAccent(a) && canceldesk.AccentContrast(a) < canceldesk.MinAccentContrast {
		// Too light for white text: say by how much, and offer the same
		// hue dark enough.
		p.Errors["accent_color"] = l.T("validation.accent_contrast", "Ratio", strconv.FormatFloat(canceldesk.AccentContrast(a), 'f', 1, 64),
			"Darker", canceldesk.DarkenAccent(a))
	}
	p.AlertRate = strings.TrimSpace(c.FormValue("alert_rate"))
	if p.AlertRate != "" {
		// A percentage with two decimals is a number of basis points.
		bp, err := canceldesk.ParseAmount(strings.TrimSuffix(p.AlertRate, "%"), "USD")
		if err != nil || bp < 0 || bp > 10000 {
			p.Errors["alert_rate"] = l.T("validation.alert_rate")
		}
		st.AlertRateBP = bp
	}
	st.DefaultLocationID, _ = strconv.ParseInt(c.FormValue("default_location"), 10, 64)
	st.ShopifyNotifies = s.shopifyNotifies(c, p.Settings.ShopifyNotifies)
	for i := range p.Limits {
		row := &p.Limits[i]
		row.Amount = strings.TrimSpace(c.FormValue(row.Field))
		if row.Amount == "" {
			continue
		}
		v, err := canceldesk.ParseAmount(row.Amount, row.Currency)
		if err != nil || v < 0 {
			p.Errors[row.Field] = l.T("validation.amount")
			continue
		}
		if v > 0 {
			st.StaffRefundLimit[row.Currency] = v
		}
	}
	if cur := strings.ToUpper(strings.TrimSpace(c.FormValue("new_currency"))); cur != "" {
		amt := strings.TrimSpace(c.FormValue("new_limit"))
		v, err := canceldesk.ParseAmount(amt, cur)
		switch {
		case !currencyCode.MatchString(cur):
			p.Errors["new_currency"] = l.T("validation.currency")
		case err != nil || v <= 0:
			p.Errors["new_limit"] = l.T("validation.amount")
		default:
			st.StaffRefundLimit[cur] = v
		}
	}
	p.Settings = st
	if len(p.Errors) > 0 {
		return s.render(c, fiber.StatusBadRequest, "settings/index", "", p)
	}
	err = s.Refunds.SaveSettings(c.UserContext(), st, currentAccount(c).Email)
	var de *canceldesk.Error
	switch {
	case err == nil:
		return redirect(c, "/settings?saved=1")
	case errors.As(err, &de) && de.Field != "" && de.Key != "":
		p.Errors[de.Field] = l.T(de.Key)
		return s.render(c, fiber.StatusBadRequest, "settings/index", "", p)
	}
	return err
}

// autoApprovalSave stores the rule that approves customer requests without
// staff; a bad value comes back beside its field and nothing is saved.
func (s *Server) autoApprovalSave(c *fiber.Ctx) error {
	p, err := s.settingsView(c)
	if err != nil {
		return err
	}
	l := localizer(c)
	r := canceldesk.AutoApproval{Enabled: c.FormValue("rule_enabled") != "", MaxTotal: map[string]int64{}}
	p.RuleAge, p.RuleTags = strings.TrimSpace(c.FormValue("max_age")), c.FormValue("exclude_tags")
	if r.MaxAgeMinutes, err = strconv.Atoi(p.RuleAge); err != nil {
		p.Errors["max_age"] = l.T("validation.minutes")
	}
	for i := range p.RuleTotal {
		row := &p.RuleTotal[i]
		if row.Amount = strings.TrimSpace(c.FormValue(row.Field)); row.Amount == "" {
			continue
		}
		v, err := canceldesk.ParseAmount(row.Amount, row.Currency)
		if err != nil || v <= 0 {
			p.Errors[row.Field] = l.T("validation.amount")
			continue
		}
		r.MaxTotal[row.Currency] = v
	}
	for _, tag := range strings.Split(p.RuleTags, ",") {
		if tag = strings.TrimSpace(tag); tag != "" {
			r.ExcludeTags = append(r.ExcludeTags, tag)
		}
	}
	p.Rule = r
	if len(p.Errors) == 0 {
		err = s.Requests.SaveAutoApproval(c.UserContext(), r, currentAccount(c).Email)
		var de *canceldesk.Error
		switch {
		case err == nil:
			return redirect(c, "/settings?saved=1")
		case errors.As(err, &de) && de.Field != "" && de.Key != "":
			p.Errors[de.Field] = l.T(de.Key)
		default:
			return err
		}
	}
	return s.render(c, fiber.StatusBadRequest, "settings/index", "", p)
}

// locationAdd adds a stock location; a bad name comes back beside the field.
func (s *Server) locationAdd(c *fiber.Ctx) error { return s.saveLocation(c, 0) }

// locationRename renames a stock location, keeping its id, so its orders
// and stock ledger follow; a bad name comes back beside its field.
func (s *Server) locationRename(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return fiber.ErrNotFound
	}
	return s.saveLocation(c, id)
}

// saveLocation adds a location (id 0) or renames location id.
func (s *Server) saveLocation(c *fiber.Ctx, id int64) error {
	ctx := c.UserContext()
	name := c.FormValue("name")
	var err error
	if id == 0 {
		_, err = s.Store.AddLocation(ctx, name)
	} else {
		_, err = s.Store.RenameLocation(ctx, id, name)
	}
	var de *canceldesk.Error
	switch {
	case err == nil:
		return redirect(c, "/settings?saved=location#locations")
	case !errors.As(err, &de) || de.Field != "name" || de.Key == "":
		return err
	}
	p, err := s.settingsView(c)
	if err != nil {
		return err
	}
	msg := localizer(c).T(de.Key, "Max", canceldesk.MaxLocationName)
	if id == 0 {
		p.NewLocation, p.Errors["new_location"] = name, msg
		return s.render(c, fiber.StatusBadRequest, "settings/index", "", p)
	}
	for i := range p.LocationRows {
		if row := &p.LocationRows[i]; row.ID == id {
			row.Name, row.Error = name, msg
			return s.render(c, fiber.StatusBadRequest, "settings/index", "", p)
		}
	}
	return fiber.ErrNotFound
}
