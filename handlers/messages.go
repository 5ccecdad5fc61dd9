package handlers

import (
	"errors"
	"net/url"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// messagesPage lists customer messages with their delivery state.
type messagesPage struct {
	Page
	Messages []canceldesk.OutboxMessage
	Status   string
	Statuses []string
	// Delivering is false when no SMTP server is configured: messages
	// then stay here, to be read.
	Delivering bool
}

// messagesLimit bounds the messages listed at once.
const messagesLimit = 200

// messagesList shows the newest messages, optionally of one status.
func (s *Server) messagesList(c *fiber.Ctx) error {
	status := c.Query("status")
	statuses := []string{canceldesk.MessagePending, canceldesk.MessageSent, canceldesk.MessageFailed}
	if status != "" && !slices.Contains(statuses, status) {
		return &canceldesk.Error{Code: canceldesk.EINVALID, Key: "validation.status", Message: "Choose a status from the list."}
	}
	ms, err := s.Messages.Messages(c.UserContext(), status, messagesLimit)
	if err != nil {
		return err
	}
	l := localizer(c)
	p := messagesPage{Page: s.page(c, l.T("messages.title"), "messages"), Messages: ms, Status: status,
		Statuses: statuses, Delivering: s.MailDelivering}
	return s.render(c, fiber.StatusOK, "messages/index", "", p)
}

// messagePage is one message as the customer gets it.
type messagePage struct {
	Page
	Message *canceldesk.OutboxMessage
	Resent  bool
}

func (s *Server) messageByParam(c *fiber.Ctx) (*canceldesk.OutboxMessage, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return nil, fiber.ErrNotFound
	}
	return s.Messages.Message(c.UserContext(), id)
}

// messageShow shows a message's headers, delivery state, and both parts.
func (s *Server) messageShow(c *fiber.Ctx) error {
	m, err := s.messageByParam(c)
	if err != nil {
		return err
	}
	l := localizer(c)
	p := messagePage{Page: s.page(c, l.T("messages.title_one", "Subject", m.Subject), "messages"), Message: m,
		Resent: c.Query("resent") != ""}
	return s.render(c, fiber.StatusOK, "messages/show", "", p)
}

// messageHTML serves a message's HTML part for the sandboxed frame of its
// page: no script, no request anywhere, framed only by this site.
func (s *Server) messageHTML(c *fiber.Ctx) error {
	m, err := s.messageByParam(c)
	if err != nil {
		return err
	}
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "+
		"frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
	c.Set("X-Frame-Options", "SAMEORIGIN")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(m.HTML)
}

// messageResend puts a failed message back in the queue.
func (s *Server) messageResend(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return fiber.ErrNotFound
	}
	if err := s.Messages.ResendMessage(c.UserContext(), id, currentAccount(c).Email); err != nil {
		return err
	}
	return redirect(c, "/messages/"+strconv.FormatInt(id, 10)+"?resent=1")
}

// templatesPage lists the message templates, one group per language.
type templatesPage struct {
	Page
	Groups []templateGroup
}

// templateGroup is the templates of one language customers are written in.
type templateGroup struct {
	Lang      string
	Templates []canceldesk.Template
}

// templatesList shows every template in use, language by language.
func (s *Server) templatesList(c *fiber.Ctx) error {
	ts, err := s.Messages.Templates(c.UserContext())
	if err != nil {
		return err
	}
	l := localizer(c)
	p := templatesPage{Page: s.page(c, l.T("templates.title"), "settings")}
	for _, lang := range canceldesk.MessageLanguages {
		g := templateGroup{Lang: lang}
		for _, t := range ts {
			if t.Lang == lang {
				g.Templates = append(g.Templates, t)
			}
		}
		p.Groups = append(p.Groups, g)
	}
	return s.render(c, fiber.StatusOK, "messages/templates", "", p)
}

// templateLang is the language of the template the URL names (?in=,
// English when absent); ok is false for one customers are not written in.
func templateLang(c *fiber.Ctx) (string, bool) {
	lang := c.Query("in", canceldesk.DefaultLanguage)
	return lang, slices.Contains(canceldesk.MessageLanguages, lang)
}

// templatePage edits one template beside a preview rendered with a real
// order.
type templatePage struct {
	Page
	Template     canceldesk.Template
	Placeholders []string
	Preview      canceldesk.RenderedMessage
	PreviewOrder string // the order number the preview used, as typed
	PreviewNote  string // why there is no preview
	Errors       map[string]string
	Saved        bool
	// OOB: the preview fragment also refreshes the messages beside the
	// fields, which live outside it.
	OOB bool
}

// templateView loads the template in the URL, with the form's subject and
// body when posted, and renders the preview.
func (s *Server) templateView(c *fiber.Ctx, posted bool) (templatePage, error) {
	kind, variant, ok := canceldesk.ParseTemplateKey(c.Params("key"))
	lang, langOK := templateLang(c)
	if !ok || !langOK {
		return templatePage{}, fiber.ErrNotFound
	}
	ctx := c.UserContext()
	ts, err := s.Messages.Templates(ctx)
	if err != nil {
		return templatePage{}, err
	}
	t := canceldesk.PickTemplate(ts, lang, kind, variant)
	// a variant not saved yet starts from its kind's text in its language
	t.Lang, t.Kind, t.Variant = lang, kind, variant
	l := localizer(c)
	p := templatePage{Page: s.page(c, l.T("templates.edit_title", "Name", l.T("template."+t.Key())), "settings"),
		Template: t, Placeholders: canceldesk.Placeholders, Errors: map[string]string{}, Saved: c.Query("saved") != "",
		PreviewOrder: c.Query("order")}
	if posted {
		p.Template.Subject, p.Template.Body, p.PreviewOrder = c.FormValue("subject"), c.FormValue("body"), c.FormValue("order")
	}
	if err := p.Template.Validate(); err != nil {
		var pe *canceldesk.PlaceholderError
		var de *canceldesk.Error
		switch {
		case errors.As(err, &pe):
			p.Errors[pe.Field] = l.T("validation.placeholder", "Name", "{"+pe.Name+"}")
		case errors.As(err, &de) && de.Field != "":
			p.Errors[de.Field] = l.T(de.Key)
		default:
			return p, err
		}
	}
	if err := s.preview(c, &p); err != nil {
		return p, err
	}
	return p, nil
}

// preview renders the template with a real order: the one whose number
// was typed, else the newest.
func (s *Server) preview(c *fiber.Ctx, p *templatePage) error {
	l := localizer(c)
	if len(p.Errors) > 0 {
		p.PreviewNote = l.T("templates.fix_first")
		return nil
	}
	ctx := c.UserContext()
	f := canceldesk.OrderFilter{Limit: 1}
	if p.PreviewOrder != "" {
		f.Query = p.PreviewOrder
	}
	page, err := s.Store.ListOrders(ctx, f)
	if err != nil {
		return err
	}
	if len(page.Orders) == 0 {
		p.PreviewNote = l.T("templates.no_order")
		return nil
	}
	o, err := s.Store.Order(ctx, page.Orders[0].ID)
	if err != nil {
		return err
	}
	settings, err := s.Refunds.Settings(ctx)
	if err != nil {
		return err
	}
	p.PreviewOrder = o.Name
	p.Preview = p.Template.Render(previewData(o, p.Template, settings, s.publicLink(statusPath+"example")))
	return nil
}

// previewData is what a message of the template's kind would say about o.
func previewData(o *canceldesk.Order, t canceldesk.Template, settings canceldesk.Settings, statusLink string) canceldesk.MessageData {
	reason := canceldesk.CancelReason(t.Variant)
	if reason == "" {
		reason = canceldesk.ReasonCustomer
	}
	plan := canceldesk.PlanCancel(o, canceldesk.CancelRequest{Refund: canceldesk.RefundNow, NotifyCustomer: true})
	if o.Cancelled() {
		// Preview as if it were still open, its cancelled units not
		// cancelled yet, so the message lists them as {items}.
		open := *o
		open.CancelledAt, open.LineItems = nil, slices.Clone(o.LineItems)
		for i := range open.LineItems {
			open.LineItems[i].CancelledQuantity = 0
		}
		plan = canceldesk.PlanCancel(&open, canceldesk.CancelRequest{Refund: canceldesk.RefundNow, NotifyCustomer: true})
	}
	d := canceldesk.CancelMessageData(t.Lang, o, plan, reason,
		canceldesk.Offer{Kind: canceldesk.OfferDiscount, Text: "THANKYOU10"}, settings)
	switch t.Kind {
	case canceldesk.MessageRefundIssued:
		var lines []canceldesk.RefundPlanLine
		for _, li := range o.LineItems {
			lines = append(lines, canceldesk.RefundPlanLine{Name: li.Name, Quantity: li.Quantity})
		}
		d = canceldesk.RefundMessageData(t.Lang, o, canceldesk.RefundPlan{Lines: lines, Total: o.Total}, nil, settings, nil) // no credit: no date
	case canceldesk.MessageRequestReceived, canceldesk.MessageRequestApproved, canceldesk.MessageRequestDeclined:
		d.StatusLink = statusLink
		d.StoreMessage = canceldesk.RefusedMessage(t.Lang, false)
	}
	return d
}

// templateEdit shows the editor with its preview.
func (s *Server) templateEdit(c *fiber.Ctx) error {
	p, err := s.templateView(c, false)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "messages/template", "", p)
}

// templatePreview answers the preview fragment for the text so far.
func (s *Server) templatePreview(c *fiber.Ctx) error {
	p, err := s.templateView(c, true)
	if err != nil {
		return err
	}
	p.OOB = isFragment(c)
	return s.render(c, fiber.StatusOK, "messages/template", "messages/_preview", p)
}

// templateSave stores the template; an unknown placeholder is named beside
// its field and nothing is saved.
func (s *Server) templateSave(c *fiber.Ctx) error {
	p, err := s.templateView(c, true)
	if err != nil {
		return err
	}
	if len(p.Errors) > 0 {
		return s.render(c, fiber.StatusBadRequest, "messages/template", "", p)
	}
	p.Template.UpdatedBy = currentAccount(c).Email
	if err := s.Messages.SaveTemplate(c.UserContext(), p.Template); err != nil {
		return err
	}
	return redirect(c, "/settings/messages/"+p.Template.Key()+"?in="+url.QueryEscape(p.Template.Lang)+"&saved=1")
}
