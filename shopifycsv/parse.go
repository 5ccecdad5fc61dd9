// Package shopifycsv reads Shopify's order export (Orders → Export → CSV,
// plain or "for Excel") into canceldesk orders, and imports them.
//
// The export has one row per line item. The first row of an order carries
// the order-level columns; later rows repeat the order's Name and leave the
// rest empty. Parse is strict about data and lenient about layout: columns
// may come in any order, unknown columns are ignored, and an order with any
// problem is dropped whole (never half an order) and reported by the row
// number a person sees in a spreadsheet, while the other orders import.
package shopifycsv

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/canceldesk/canceldesk"
)

// Limits on what one export may hold. A row breaking one is a row error;
// a header breaking one of the first three refuses the file. The file is
// read through a reader that drops what breaks them before encoding/csv
// allocates for it, so a row takes at most about MaxRowBytes of memory
// whatever the file holds.
const (
	// MaxFieldBytes is the largest cell accepted, in bytes.
	MaxFieldBytes = 64 << 10
	// MaxColumns is the most cells a row may have. Shopify's export has
	// about 80 columns; this leaves room for columns a spreadsheet added.
	MaxColumns = 4096
	// MaxRowBytes is the most bytes one row may take in the file: four
	// cells of the largest size, some fifty times a large real row.
	MaxRowBytes = 256 << 10
	// MaxLineItems is the most line items one order may have.
	MaxLineItems = 1000
	// MaxQuantity is the largest quantity of one line item.
	MaxQuantity = 1_000_000
)

// Options adjust how an export is read.
type Options struct {
	// DefaultCurrency is the ISO 4217 code of orders whose Currency cell is
	// empty (or that have no Currency column); "USD" when empty.
	DefaultCurrency string
}

// RowError is a problem with one row. Any row error drops the whole order
// it belongs to.
type RowError struct {
	// Row is the row number as a spreadsheet shows it: the header is row 1,
	// the first data row row 2; line breaks inside a cell do not count.
	Row int
	// Order is the Name of the order the row belongs to, "" when the row
	// cannot be tied to one.
	Order string
	// Reason says what is wrong, in English, without the row number.
	Reason string
	// Rows are every row skipped because of it, in file order: all the
	// rows of its order (which is skipped whole), else the row alone.
	Rows []int
}

// RowsText lists Rows for a reader: "8", "8, 9", "8–11, 14".
func (e RowError) RowsText() string {
	var parts []string
	for i := 0; i < len(e.Rows); {
		j := i
		for j+1 < len(e.Rows) && e.Rows[j+1] == e.Rows[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, strconv.Itoa(e.Rows[i]))
		case j == i+1:
			parts = append(parts, strconv.Itoa(e.Rows[i]), strconv.Itoa(e.Rows[j]))
		default:
			parts = append(parts, strconv.Itoa(e.Rows[i])+"–"+strconv.Itoa(e.Rows[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// Error returns "row 7 (#1003): reason", or "row 7: reason" without an order.
func (e RowError) Error() string {
	if e.Order == "" {
		return fmt.Sprintf("row %d: %s", e.Row, e.Reason)
	}
	return fmt.Sprintf("row %d (%s): %s", e.Row, e.Order, e.Reason)
}

// Result is what Parse read.
type Result struct {
	Orders      []*canceldesk.Order // valid orders, in the order they first appear
	Rows        int                 // data rows read, not counting blank rows
	SkippedRows int                 // rows of invalid orders, and rows that could not be read or matched to an order
	Errors      []RowError          // in row order
}

// Parse reads an order export. It returns an error only when the file as a
// whole cannot be used: a *canceldesk.Error with code EINVALID when it is
// empty or not an order export (the message names the missing columns), or
// the reader's error when reading fails part way. Problems with single rows
// are reported in Result.Errors.
func Parse(r io.Reader, opt Options) (*Result, error) {
	def := strings.ToUpper(strings.TrimSpace(opt.DefaultCurrency))
	if def == "" {
		def = "USD"
	}
	if !isCurrency(def) {
		return nil, fmt.Errorf("shopifycsv: default currency %q is not a three-letter ISO 4217 code", opt.DefaultCurrency)
	}

	br := bufio.NewReader(r)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xEF\xBB\xBF")) {
		br.Discard(3)
	}
	bnd := newBounded(&newlines{r: br})
	tp := &tape{r: bnd}
	cr := csv.NewReader(tp)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = false

	p := &parser{currency: def, groups: map[string]*group{}, res: &Result{}}

	header, err := cr.Read()
	var pe *csv.ParseError
	var le *LimitError
	switch {
	case errors.As(err, &le):
		return nil, le
	case err == io.EOF:
		return nil, notExport("the file is empty.")
	case errors.As(err, &pe):
		return nil, notExport(fmt.Sprintf("its first row cannot be read (%s).", describeParseError(pe)))
	case err != nil:
		return nil, fmt.Errorf("shopifycsv: reading the file: %w", err)
	}
	if err := p.readHeader(header); err != nil {
		return nil, err
	}
	prev := cr.InputOffset()
	tp.discard(prev)

	for {
		rec, err := cr.Read()
		off := cr.InputOffset()
		if err == io.EOF {
			break
		}
		c := bnd.take(off)
		if errors.As(err, &pe) {
			p.unreadable(pe, tp.slice(prev, off), tp.exhausted(off), c)
		} else if err != nil {
			return nil, fmt.Errorf("shopifycsv: reading the file: %w", err)
		} else {
			line, _ := cr.FieldPos(0)
			row := line - p.embedded
			for _, f := range rec {
				p.embedded += strings.Count(f, "\n")
			}
			p.record(row, rec, c)
		}
		p.linesGone += c.lines
		tp.discard(off)
		prev = off
	}
	return p.finish(), nil
}

// NotExportPrefix starts the message of every whole-file error; the rest
// says why (the missing columns, an unreadable first row).
const NotExportPrefix = "This file is not a Shopify order export: "

// notExport is the whole-file error for something that is not an export.
func notExport(why string) error {
	return &canceldesk.Error{
		Code:    canceldesk.EINVALID,
		Message: NotExportPrefix + why,
		Field:   "file",
		Key:     "import.not_an_export",
	}
}

// parser holds the state of one Parse.
type parser struct {
	currency string // default currency
	idx      [numCols]int
	header   []string // cleaned header cells, for naming columns in errors

	embedded  int // line breaks inside cells so far: physical line - embedded = row
	linesGone int // line breaks inside cells dropped by the limits so far: encoding/csv's line + linesGone = line of the file

	groups map[string]*group
	order  []*group // groups in order of first appearance
	last   *group   // the order of the last named row, for rows without a Name
	res    *Result
}

// group gathers the rows of one order Name.
type group struct {
	name     string
	firstRow int
	seen     bool // a row of it came, so later rows are not its first
	invalid  bool
	rowNums  []int // its data rows, in file order

	// From the first row, to check later rows against.
	currency, email, id string

	order      *canceldesk.Order // nil when its first row could not be read
	status     string            // order-level Fulfillment Status as normalised, "" if empty
	partial    []bool            // per line: Lineitem fulfillment status said "partial"
	lineFilled bool              // some line said "fulfilled"
}

// readHeader maps the header to columns and checks the required ones.
func (p *parser) readHeader(header []string) error {
	for i := range p.idx {
		p.idx[i] = -1
	}
	byName := make(map[string]int, numCols)
	for c, n := range columnNames {
		byName[strings.ToLower(n)] = c
	}
	for n, c := range columnAliases {
		byName[n] = c
	}
	p.header = make([]string, len(header))
	for i, h := range header {
		p.embedded += strings.Count(h, "\n")
		h = strings.Join(strings.Fields(clean(h)), " ")
		p.header[i] = h
		if c, ok := byName[strings.ToLower(h)]; ok && p.idx[c] < 0 {
			p.idx[c] = i
		}
	}
	var missing []string
	for _, c := range required {
		if p.idx[c] < 0 {
			missing = append(missing, columnNames[c])
		}
	}
	if len(missing) == 0 {
		return nil
	}
	msg := "missing column " + missing[0] + "."
	if len(missing) > 1 {
		msg = "missing columns " + strings.Join(missing, ", ") + "."
	}
	if len(header) == 1 {
		switch {
		case strings.Contains(header[0], ";"):
			msg += " Its columns seem to be separated by semicolons, as Excel does in some languages; upload the file as Shopify exported it."
		case strings.Contains(header[0], "\t"):
			msg += " Its columns seem to be separated by tabs; upload the file as Shopify exported it, as CSV."
		}
	}
	return notExport(msg)
}

// get returns the cleaned cell of column c, "" when absent.
func (p *parser) get(rec []string, c int) string {
	i := p.idx[c]
	if i < 0 || i >= len(rec) {
		return ""
	}
	return clean(rec[i])
}

// columnLabel names the i-th column of the file for an error message.
func (p *parser) columnLabel(i int) string {
	if i < len(p.header) && p.header[i] != "" {
		return truncate(p.header[i], 40)
	}
	return fmt.Sprintf("column %d", i+1)
}

// record handles one data row read without a CSV syntax error; c is what
// the limits dropped of it.
func (p *parser) record(row int, rec []string, c cut) {
	var rowWhy []string // what is wrong with the row as a whole
	if len(rec) > MaxColumns {
		rowWhy = append(rowWhy, fmt.Sprintf("the row has more than %s columns, the most Cancel Desk reads", thousands(MaxColumns)))
		rec = rec[:MaxColumns]
	}
	nameCut := false
	if c.row {
		rowWhy = append(rowWhy, fmt.Sprintf("the row is longer than %d KiB, the most Cancel Desk reads", MaxRowBytes>>10))
		// Only a cell followed by another was read whole.
		if i := p.idx[colName]; i >= len(rec)-1 {
			nameCut = true
			rec = rec[:min(i, len(rec))]
		}
	}
	if len(rowWhy) == 0 && blank(rec) {
		return
	}
	p.res.Rows++

	bad := slices.Clone(rowWhy)
	nameLong := false
	for i, f := range rec {
		if len(f) > MaxFieldBytes {
			bad = append(bad, fmt.Sprintf("%s is longer than 64 KiB", p.columnLabel(i)))
			rec[i] = "" // not kept
			nameLong = nameLong || i == p.idx[colName]
		}
	}

	name := p.get(rec, colName)
	if name == "" {
		why := "Name is empty"
		switch {
		case nameLong:
			why = "Name is longer than 64 KiB"
		case nameCut:
			why = "its Name was not read"
		}
		// A row cut short may be a line of the order above, whatever the
		// part read of it says.
		lineData := c.row || p.get(rec, colLineQty) != "" || p.get(rec, colLineName) != "" || p.get(rec, colLinePrice) != ""
		p.nameless(row, strings.Join(append(rowWhy, why), "; "), lineData)
		return
	}

	g := p.group(name, row)
	g.rowNums = append(g.rowNums, row)
	p.last = g
	if len(bad) > 0 { // a cell is too long: read no further
		g.seen = true
		p.fail(g, row, strings.Join(bad, "; "))
		return
	}
	if !g.seen {
		g.seen = true
		p.orderFields(g, rec, &bad)
	} else if g.order != nil {
		p.checkRepeat(g, rec, &bad)
	}
	li, status := p.lineItem(g, rec, &bad)

	switch {
	case len(bad) > 0:
		p.fail(g, row, strings.Join(bad, "; "))
	case g.invalid:
		// Already dropped for another row; nothing to keep.
	case len(g.order.LineItems) >= MaxLineItems:
		p.fail(g, row, fmt.Sprintf("the order has more than %d line items, the most Cancel Desk imports for one order", MaxLineItems))
	default:
		li.Position = len(g.order.LineItems) + 1
		switch status {
		case "fulfilled":
			li.FulfilledQuantity = li.Quantity
			g.lineFilled = true
		}
		g.order.LineItems = append(g.order.LineItems, li)
		// The amounts are checked as the store checks them, at the row
		// that brings the order over the bound.
		if err := g.order.CheckAmounts(); err != nil {
			p.fail(g, row, canceldesk.ErrorMessage(err))
			return
		}
		g.partial = append(g.partial, status == "partial")
	}
}

// blank reports whether every cell of rec is empty or space.
func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// group returns the group of an order Name, creating it at row.
func (p *parser) group(name string, row int) *group {
	g := p.groups[name]
	if g == nil {
		g = &group{name: name, firstRow: row}
		p.groups[name] = g
		p.order = append(p.order, g)
	}
	return g
}

// fail drops the order of g and records why.
func (p *parser) fail(g *group, row int, reason string) {
	g.invalid = true
	if g.order != nil {
		g.order.LineItems = nil
	}
	g.partial = nil
	p.res.Errors = append(p.res.Errors, RowError{Row: row, Order: g.name, Reason: reason})
}

// nameless handles a row that cannot be tied to an order by its Name. A row
// with line-item data may be a line of the order above it, and importing
// that order without it would import half an order, which cannot be put
// right by importing the file again (the order would be "already present");
// so that order is dropped too, and importing a corrected file brings it in.
func (p *parser) nameless(row int, why string, lineData bool) {
	if !lineData || p.last == nil {
		p.res.SkippedRows++
		p.res.Errors = append(p.res.Errors, RowError{Row: row, Reason: why + ", so the row cannot be matched to an order"})
		return
	}
	g := p.last
	g.rowNums = append(g.rowNums, row)
	p.fail(g, row, fmt.Sprintf("%s, so the row cannot be matched to its order; order %s above it is skipped as well, in case the row belongs to it", why, g.name))
}

// unreadable handles a record with a CSV syntax error. raw is its text as
// read; toEnd says the reader consumed the rest of the file with it; c is
// what the limits dropped of it.
func (p *parser) unreadable(pe *csv.ParseError, raw []byte, toEnd bool, c cut) {
	row := pe.StartLine - p.embedded
	p.embedded += pe.Line - pe.StartLine
	p.res.Rows++

	// Lines of the file, counting those the limits dropped.
	at := *pe
	at.StartLine += p.linesGone
	at.Line += p.linesGone
	lost := toEnd && pe.Err == csv.ErrQuote && pe.Line+c.lines > pe.StartLine
	reason := "this row cannot be read: " + describeParseError(&at)
	if lost {
		reason = fmt.Sprintf("this row cannot be read: a quoted cell that starts on it is never closed, so the rest of the file (lines %d to %d) was not read", at.StartLine, at.Line+c.lines)
	}

	lines := bytes.Split(bytes.TrimLeft(raw, "\n"), []byte("\n"))
	name := p.nameOf(lines[0])
	if name == "" {
		if p.last == nil {
			p.res.SkippedRows++
			p.res.Errors = append(p.res.Errors, RowError{Row: row, Reason: reason})
		} else {
			g := p.last
			g.rowNums = append(g.rowNums, row)
			p.fail(g, row, reason+fmt.Sprintf("; its Name cannot be made out, so order %s above it is skipped as well, in case the row belongs to it", g.name))
		}
	} else {
		g := p.group(name, row)
		g.seen = true
		g.rowNums = append(g.rowNums, row)
		p.last = g
		p.fail(g, row, reason)
	}
	if lost {
		// Orders already read may have more rows in the part not read:
		// those named there, or any when the limits dropped some of it.
		unread := fmt.Sprintf("some rows of this order may be in the part of the file that was not read (from row %d)", row)
		if c.any {
			for _, g := range p.order {
				if g.name != name && !g.invalid {
					p.fail(g, row, unread)
				}
			}
			return
		}
		for _, l := range lines[1:] {
			n := p.nameOf(l)
			if g := p.groups[n]; g != nil && n != name && !g.invalid {
				p.fail(g, row, unread)
			}
		}
	}
}

// nameOf makes out the Name cell of a line that strict CSV cannot read.
func (p *parser) nameOf(line []byte) string {
	cr := csv.NewReader(bytes.NewReader(line))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	rec, _ := cr.Read()
	if i := p.idx[colName]; i < len(rec) && len(rec[i]) <= MaxFieldBytes {
		return clean(rec[i])
	}
	return ""
}

// describeParseError says what encoding/csv found, in words.
func describeParseError(pe *csv.ParseError) string {
	var what string
	switch pe.Err {
	case csv.ErrBareQuote:
		what = `a " appears in a cell that is not in quotes`
	case csv.ErrQuote:
		what = `a quoted cell is not closed properly`
	default:
		what = pe.Err.Error()
	}
	return fmt.Sprintf("%s, at line %d, column %d of the file", what, pe.Line, pe.Column)
}

// finish decides fulfilment of the valid orders and builds the result.
func (p *parser) finish() *Result {
	res := p.res
	for _, g := range p.order {
		if g.invalid {
			res.SkippedRows += len(g.rowNums)
			continue
		}
		o := g.order
		if g.status == "fulfilled" {
			for i := range o.LineItems {
				if g.partial[i] || !g.lineFilled {
					o.LineItems[i].FulfilledQuantity = o.LineItems[i].Quantity
				}
			}
		}
		if g.status != "" {
			o.FulfillmentStatus = canceldesk.FulfillmentStatus(g.status)
		} else {
			o.FulfillmentStatus = canceldesk.DeriveFulfillment(o.LineItems)
		}
		res.Orders = append(res.Orders, o)
	}
	// Each problem names every row skipped with it, so the rows listed
	// add up to SkippedRows.
	for i := range res.Errors {
		e := &res.Errors[i]
		if g := p.groups[e.Order]; e.Order != "" && g != nil && g.invalid {
			e.Rows = g.rowNums
		} else {
			e.Rows = []int{e.Row}
		}
	}
	return res
}

// clean makes a cell safe to keep: invalid UTF-8 and NUL bytes (which
// PostgreSQL cannot store) become U+FFFD, and surrounding space goes.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	return strings.TrimSpace(s)
}

// truncate shortens s to at most n runes for an error message.
func truncate(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// quote quotes a cell for an error message, shortened.
func quote(s string) string { return fmt.Sprintf("%q", truncate(s, 40)) }

// tape passes reads through and keeps what was read since the last
// discard, so the text of a record encoding/csv rejects can be looked at.
type tape struct {
	r    io.Reader
	buf  []byte
	off  int   // buf[off:] is kept
	base int64 // stream offset of buf[off]
	eof  bool
}

func (t *tape) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	if len(t.buf)+n > cap(t.buf) {
		// Doubling: append grows large slices by a quarter, which
		// allocates several times a long row on the way.
		t.buf = append(make([]byte, 0, max(2*cap(t.buf), len(t.buf)+n, 4096)), t.buf...)
	}
	t.buf = append(t.buf, b[:n]...)
	if err != nil {
		t.eof = true
	}
	return n, err
}

// slice returns the bytes between two stream offsets still kept.
func (t *tape) slice(from, to int64) []byte {
	return t.buf[t.off+int(from-t.base) : t.off+int(to-t.base)]
}

// discard forgets everything before stream offset upTo.
func (t *tape) discard(upTo int64) {
	t.off += int(upTo - t.base)
	t.base = upTo
	if t.off > 64<<10 && t.off > len(t.buf)/2 {
		t.buf = append(t.buf[:0], t.buf[t.off:]...)
		t.off = 0
	}
}

// exhausted reports whether offset is the end of the input.
func (t *tape) exhausted(offset int64) bool {
	return t.eof && offset == t.base+int64(len(t.buf)-t.off)
}

// newlines turns CRLF and lone CR (old Mac Excel) line ends into LF, so
// rows are found however the file was saved. encoding/csv turns CRLF into
// LF anyway, inside quoted cells too.
type newlines struct {
	r      io.Reader
	lastCR bool
}

func (n *newlines) Read(b []byte) (int, error) {
	k, err := n.r.Read(b)
	w := 0
	for _, c := range b[:k] {
		switch {
		case c == '\n' && n.lastCR:
			n.lastCR = false
			continue
		case c == '\r':
			c = '\n'
			n.lastCR = true
		default:
			n.lastCR = false
		}
		b[w] = c
		w++
	}
	return w, err
}
