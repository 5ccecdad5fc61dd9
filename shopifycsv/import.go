package shopifycsv

import (
	"context"
	"fmt"
	"io"

	"github.com/canceldesk/canceldesk"
)

// batchSize bounds how many orders one store transaction imports.
const batchSize = 200

// Summary is what an import did, for the CLI's last line and the upload page.
type Summary struct {
	Imported       int // new orders
	LineItems      int // line items of the new orders
	Cancelled      int // new orders that were already cancelled in the shop
	AlreadyPresent int // orders whose number was already in the store
	SkippedRows    int // rows of malformed orders, none of which were imported
	Errors         []RowError
}

// shownErrors is how many row errors a page lists before summing up the rest.
const shownErrors = 100

// ShownErrors are the row errors a page lists.
func (s *Summary) ShownErrors() []RowError { return s.Errors[:min(len(s.Errors), shownErrors)] }

// HiddenErrors counts the row errors a page does not list.
func (s *Summary) HiddenErrors() int { return max(len(s.Errors)-shownErrors, 0) }

// String is the one summary line the import command ends with.
func (s *Summary) String() string {
	return fmt.Sprintf("imported %d orders (%d line items, %d cancelled), %d already present, %d rows skipped",
		s.Imported, s.LineItems, s.Cancelled, s.AlreadyPresent, s.SkippedRows)
}

// Add accumulates another file's summary.
func (s *Summary) Add(o *Summary) {
	s.Imported += o.Imported
	s.LineItems += o.LineItems
	s.Cancelled += o.Cancelled
	s.AlreadyPresent += o.AlreadyPresent
	s.SkippedRows += o.SkippedRows
	s.Errors = append(s.Errors, o.Errors...)
}

// Import reads an export and imports its valid orders into st. A file that
// is not an order export returns an EINVALID error and imports nothing;
// malformed orders are skipped whole and listed in Summary.Errors. The
// locations the orders name are created with them; when they name none
// and the store has no location, one is created
// (canceldesk.DefaultLocationName), so their items can go back to stock.
func Import(ctx context.Context, st canceldesk.OrderStore, r io.Reader, opt Options, actor string) (*Summary, error) {
	res, err := Parse(r, opt)
	if err != nil {
		return nil, err
	}
	sum := &Summary{SkippedRows: res.SkippedRows, Errors: res.Errors}
	for start := 0; start < len(res.Orders); start += batchSize {
		batch := res.Orders[start:min(start+batchSize, len(res.Orders))]
		created, err := st.ImportOrders(ctx, batch, actor)
		if err != nil {
			return sum, err
		}
		for i, o := range batch {
			if !created[i] {
				sum.AlreadyPresent++
				continue
			}
			sum.Imported++
			sum.LineItems += len(o.LineItems)
			if o.Cancelled() {
				sum.Cancelled++
			}
		}
	}
	if len(res.Orders) == 0 {
		return sum, nil
	}
	return sum, ensureALocation(ctx, st)
}

// ensureALocation creates the default location in a store that has none.
func ensureALocation(ctx context.Context, st canceldesk.OrderStore) error {
	locs, err := st.Locations(ctx)
	if err != nil || len(locs) > 0 {
		return err
	}
	_, err = st.EnsureLocation(ctx, canceldesk.DefaultLocationName)
	return err
}
