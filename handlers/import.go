package handlers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/shopifycsv"
)

// importPage is the view of the CSV import page.
type importPage struct {
	Page
	Error   string // about the file as a whole, shown beside the file field
	Summary *shopifycsv.Summary
}

// importForm shows the upload form.
func (s *Server) importForm(c *fiber.Ctx) error {
	l := localizer(c)
	return s.render(c, fiber.StatusOK, "import/index", "", importPage{Page: s.page(c, l.T("import.title"), "import")})
}

// importUpload imports a Shopify order export. Bad orders are reported by
// row and skipped whole; the rest are imported; a file that is not an
// export changes nothing and answers 400 with the reason beside the field.
func (s *Server) importUpload(c *fiber.Ctx) error {
	l := localizer(c)
	p := importPage{Page: s.page(c, l.T("import.title"), "import")}
	fh, err := c.FormFile("file")
	if err != nil || fh.Size == 0 {
		p.Error = l.T("import.no_file")
		return s.render(c, fiber.StatusBadRequest, "import/index", "", p)
	}
	if fh.Size > MaxUploadBytes {
		p.Error = l.T("import.too_large", "Limit", fmt.Sprintf("%d MB", MaxUploadBytes>>20))
		return s.render(c, fiber.StatusRequestEntityTooLarge, "import/index", "", p)
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	sum, err := shopifycsv.Import(c.UserContext(), s.Store, f, shopifycsv.Options{DefaultCurrency: s.Currency}, currentAccount(c).Email)
	var de *canceldesk.Error
	var le *shopifycsv.LimitError
	if errors.As(err, &le) {
		p.Error = l.T(le.Key(), "Row", le.Row, "Limit", le.Limit())
		return s.render(c, fiber.StatusBadRequest, "import/index", "", p)
	} else if errors.As(err, &de) && de.Code == canceldesk.EINVALID {
		p.Error = de.Message
		if de.Key != "" && l.Lang() != "en" {
			// The reason names the file's (English) column headers; the
			// sentence around it comes from the catalogue.
			p.Error = l.T(de.Key) + " " + strings.TrimPrefix(de.Message, shopifycsv.NotExportPrefix)
		}
		return s.render(c, fiber.StatusBadRequest, "import/index", "", p)
	} else if err != nil {
		return err
	}
	p.Summary = sum
	return s.render(c, fiber.StatusOK, "import/index", "", p)
}
