package handlers

import (
	"bytes"
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// brand is the store as its customers' pages show it, from Settings. Each
// part is set only when it is safe to put in a page as it is.
type brand struct {
	Name    string
	LogoURL string // an absolute https URL (canceldesk.LogoURL); "" for none
	// Accent is the colour as #rrggbb with contrast for white text, and
	// AccentHex its six digits (for the stylesheet's address); "" for the
	// default colour.
	Accent, AccentHex string
	Contact           string // where customers may write; "" for nowhere
	logoOrigin        string // the logo's scheme and host, for the CSP
}

// brandOf is the store's face from its settings: a logo that is not an
// absolute https URL, or a colour that is not #rrggbb with enough
// contrast, is left out (Settings refuses them; this holds for settings
// saved some other way too). The contact falls back to the Reply-To.
func brandOf(st canceldesk.Settings) brand {
	b := brand{Name: st.StoreName, Contact: st.ContactEmail}
	if b.Contact == "" {
		b.Contact = st.ReplyTo
	}
	if u, ok := canceldesk.LogoURL(st.LogoURL); ok {
		b.LogoURL, b.logoOrigin = u.String(), "https://"+u.Host
	}
	if canceldesk.ValidAccent(st.AccentColor) && canceldesk.AccentContrast(st.AccentColor) >= canceldesk.MinAccentContrast {
		b.Accent = strings.ToLower(st.AccentColor)
		b.AccentHex = b.Accent[1:]
	}
	return b
}

// publicPage is what every customer page needs: the common Page and the
// store's face.
type publicPage struct {
	Page
	Brand brand
}

func (p publicPage) publicBase() publicPage { return p }

// publicView is the data of a customer page.
type publicView interface {
	view
	publicBase() publicPage
}

// publicPageOf builds the common part of a customer page.
func (s *Server) publicPageOf(c *fiber.Ctx, title string) (publicPage, error) {
	st, err := s.Refunds.Settings(c.UserContext())
	if err != nil {
		return publicPage{}, err
	}
	return publicPage{Page: s.page(c, title, ""), Brand: brandOf(st)}, nil
}

// publicLayoutData is what the public layout renders around a page.
type publicLayoutData struct {
	publicPage
	Content template.HTML // the page, already rendered and escaped
}

// renderPublic answers with a customer page inside the public layout: the
// store's name, logo and colour, no staff navigation. The logo's origin is
// the one other place the page may load an image from.
func (s *Server) renderPublic(c *fiber.Ctx, status int, page string, data publicView) error {
	var content, body bytes.Buffer
	if err := s.views.Render(&content, page, data); err != nil {
		return err
	}
	pp := data.publicBase()
	if err := s.views.Render(&body, "layouts/public", publicLayoutData{publicPage: pp, Content: template.HTML(content.String())}); err != nil {
		return err
	}
	if pp.Brand.logoOrigin != "" {
		c.Set("Content-Security-Policy", contentSecurityPolicy(pp.Brand.logoOrigin))
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(body.Bytes())
}

// brandStyle serves the accent colour as a stylesheet, since pages allow
// no inline style: only a colour that passed canceldesk.ValidAccent ever
// reaches it, never the text as saved. Its address carries the colour, so
// a new colour is a new address and this one may be cached.
func (s *Server) brandStyle(c *fiber.Ctx) error {
	st, err := s.Refunds.Settings(c.UserContext())
	if err != nil {
		return err
	}
	css := ""
	if b := brandOf(st); b.Accent != "" {
		css = ".public { --accent: " + b.Accent + "; }\n"
	}
	c.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.SendString(css)
}

// publicErrorView is an error on a customer's page.
type publicErrorView struct {
	publicPage
	Heading, Message string
}

// isPublicPath reports whether path is one of the customer's pages.
func isPublicPath(path string) bool {
	return path == "/cancel" || strings.HasPrefix(path, "/cancel/") || strings.HasPrefix(path, "/r/")
}

// publicError answers an error on a customer's page (a status link that
// names no request, too many tries) in the store's own layout, with a way
// back to the form instead of the staff's orders; false when it did not
// (another page, or the settings could not be read: the plain error page
// follows).
func (s *Server) publicError(c *fiber.Ctx, p errorPage) bool {
	if !isPublicPath(c.Path()) || s.Refunds == nil {
		return false
	}
	st, err := s.Refunds.Settings(c.UserContext())
	if err != nil {
		return false
	}
	v := publicErrorView{publicPage: publicPage{Page: p.Page, Brand: brandOf(st)}, Heading: p.Heading, Message: p.Message}
	return s.renderPublic(c, p.Status, "requests/error", v) == nil
}
