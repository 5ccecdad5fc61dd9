package shopifycsv

import (
	"fmt"
	"io"
)

// bounded sits between the file and encoding/csv, which reads a whole row
// into memory before handing it over: it follows the CSV quoting as
// encoding/csv does (strict quotes, rows end at a line break outside
// quotes, the rest of a line is skipped after a quoting error) and drops
// what breaks a limit before anything is allocated for it. Of a cell over
// MaxFieldBytes it passes MaxFieldBytes+1 bytes, so the cell still reads
// as too long; of a row over MaxColumns, MaxColumns+1 cells, the last
// empty; of a row over MaxRowBytes, its first MaxRowBytes bytes. Quotes
// that open a kept cell are always closed, so the rows after a cut read
// as they are. The first row (the header) is not cut: it stops the read
// with a *LimitError, since a header breaking a limit is no export.
type bounded struct {
	r   io.Reader
	in  [4096]byte
	out []byte // passed on, out[pos:] not yet read
	pos int
	err error

	emitted int64 // bytes passed on so far
	line    int   // line breaks read so far
	header  bool  // the first row is not over yet
	row     rowState
	cuts    []cut
}

// rowState is what bounded knows of the row it reads.
type rowState struct {
	state     int
	started   bool // blank lines are not rows
	start     int64
	line      int // line of the file the row starts on, from 1
	bytes     int
	cells     int
	cellBytes int  // of the current cell, as encoding/csv returns it
	opened    bool // the current cell's opening quote was passed on
	dropCell  bool
	dropRow   bool
	cutCell   bool // a cell of the row was cut
	cutRow    bool // the row was cut at MaxRowBytes
	linesGone int  // line breaks inside cells dropped from the row
}

// States of the quoting, as encoding/csv's parser has them.
const (
	atCell   = iota // the first byte of a cell (already counted)
	plain           // inside a cell not in quotes
	quoted          // inside a quoted cell
	quoteEnd        // after a quote inside a quoted cell: `""`, or its end
	broken          // after a quoting error, up to the end of the line
)

// cut tells the parser what was dropped from one row.
type cut struct {
	start int64 // offset of the row in the bounded stream
	any   bool  // something of the row was dropped
	row   bool  // the row lost its end at MaxRowBytes
	lines int   // line breaks dropped with the text
}

func newBounded(r io.Reader) *bounded {
	return &bounded{r: r, header: true, out: make([]byte, 0, 2*4096)}
}

func (b *bounded) Read(p []byte) (int, error) {
	for b.pos == len(b.out) {
		if b.err != nil {
			return 0, b.err
		}
		b.out, b.pos = b.out[:0], 0
		n, err := b.r.Read(b.in[:])
		for _, c := range b.in[:n] {
			if b.step(c); b.err != nil {
				break
			}
		}
		if err != nil && b.err == nil {
			b.end()
			b.err = err
		}
	}
	n := copy(p, b.out[b.pos:])
	b.pos += n
	return n, nil
}

// step reads one byte of the file.
func (b *bounded) step(c byte) {
	if c == '\n' {
		b.line++
	}
	r := &b.row
	switch r.state {
	case atCell:
		if !r.started {
			if c == '\n' { // a blank line
				b.raw(c)
				return
			}
			r.started, r.start, r.line = true, b.emitted, b.line+1
			b.nextCell()
		}
		switch c {
		case '"':
			r.state = quoted
			r.opened = b.put(c)
		case ',':
			b.put(c)
			b.nextCell()
		case '\n':
			b.endRow()
		default:
			r.state = plain
			b.content(c)
		}
	case plain, broken:
		switch c {
		case ',':
			b.put(c)
			b.nextCell()
			if r.state == plain {
				r.state = atCell
			}
		case '\n':
			b.endRow()
		case '"': // encoding/csv gives up on the rest of the line
			r.state = broken
			b.content(c)
		default:
			b.content(c)
		}
	case quoted:
		if c == '"' {
			r.state = quoteEnd // withheld until the next byte says which
			return
		}
		b.content(c)
	case quoteEnd:
		switch c {
		case '"':
			r.state = quoted
			b.content('"', '"')
		case ',':
			b.closeQuote()
			b.put(c)
			b.nextCell()
			r.state = atCell
		case '\n':
			b.closeQuote()
			b.endRow()
		default:
			b.closeQuote()
			r.state = broken
			b.content(c)
		}
	}
}

// content passes on bytes of a cell (two for a doubled quote, which
// encoding/csv returns as one) unless the cell or row is being dropped.
func (b *bounded) content(c ...byte) {
	r := &b.row
	if r.dropCell || r.dropRow {
		if c[0] == '\n' {
			r.linesGone++
		}
		return
	}
	r.cellBytes++
	for _, x := range c {
		b.put(x)
	}
	if r.cellBytes > MaxFieldBytes {
		b.breach(limitCell)
		r.dropCell, r.cutCell = true, true
	}
}

// nextCell starts a cell of the row.
func (b *bounded) nextCell() {
	r := &b.row
	r.cells++
	r.cellBytes, r.dropCell, r.opened = 0, false, false
	if r.cells > MaxColumns && !r.dropRow {
		b.breach(limitColumns)
		r.dropRow = true // the parser counts the cells
	}
}

// put passes a byte of the row on while the row is within MaxRowBytes.
func (b *bounded) put(c byte) bool {
	r := &b.row
	if r.dropRow {
		return false
	}
	if r.bytes++; r.bytes > MaxRowBytes {
		b.breach(limitRow)
		r.dropRow, r.cutRow = true, true
		return false
	}
	b.raw(c)
	return true
}

// raw passes a byte on whatever the limits: line ends, and the closing
// quote of a cell whose opening quote was passed on.
func (b *bounded) raw(c byte) {
	b.out = append(b.out, c)
	b.emitted++
}

func (b *bounded) closeQuote() {
	if b.row.opened {
		b.raw('"')
	}
}

// endRow ends the row at a line break outside quotes.
func (b *bounded) endRow() {
	b.raw('\n')
	b.finishRow()
}

// finishRow notes what the row lost and gets ready for the next one.
func (b *bounded) finishRow() {
	if r := b.row; r.cutCell || r.cutRow || r.dropRow || r.linesGone > 0 {
		b.cuts = append(b.cuts, cut{start: r.start, any: true, row: r.cutRow, lines: r.linesGone})
	}
	b.row, b.header = rowState{}, false
}

// end closes what the end of the file leaves open.
func (b *bounded) end() {
	if b.row.state == quoteEnd {
		b.closeQuote()
	}
	if b.row.started {
		b.finishRow()
	}
}

// breach stops the read at the header; later rows are cut instead.
func (b *bounded) breach(kind string) {
	if b.header {
		b.err = &LimitError{Kind: kind, Row: b.row.line}
	}
}

// take returns what was dropped from the rows that start before offset.
func (b *bounded) take(offset int64) cut {
	var c cut
	for len(b.cuts) > 0 && b.cuts[0].start < offset {
		c.any = true
		c.row = c.row || b.cuts[0].row
		c.lines += b.cuts[0].lines
		b.cuts = b.cuts[1:]
	}
	return c
}

// Kinds of LimitError.
const (
	limitColumns = "columns"
	limitCell    = "cell"
	limitRow     = "row"
)

// LimitError refuses a file whose header row breaks a limit: more than
// MaxColumns columns, a cell over MaxFieldBytes or the row over
// MaxRowBytes. Such a file is no order export, and it is refused after
// reading at most the limit. It unwraps to the EINVALID error every other
// refusal of a whole file is.
type LimitError struct {
	Kind string // "columns", "cell" or "row"
	Row  int    // as a spreadsheet numbers it
}

// Limit is the limit broken, in the unit the message names: columns or
// KiB.
func (e *LimitError) Limit() int {
	switch e.Kind {
	case limitColumns:
		return MaxColumns
	case limitCell:
		return MaxFieldBytes >> 10
	}
	return MaxRowBytes >> 10
}

// Key is the message's key in the translation catalogues; it takes Row and
// Limit.
func (e *LimitError) Key() string { return "import.limit_" + e.Kind }

func (e *LimitError) Error() string { return e.Unwrap().Error() }

func (e *LimitError) Unwrap() error {
	var why string
	switch e.Kind {
	case limitColumns:
		why = fmt.Sprintf("row %d has more than %s columns, the most Cancel Desk reads.", e.Row, thousands(e.Limit()))
	case limitCell:
		why = fmt.Sprintf("row %d has a cell longer than %d KiB, the most Cancel Desk reads.", e.Row, e.Limit())
	default:
		why = fmt.Sprintf("row %d is longer than %d KiB, the most Cancel Desk reads.", e.Row, e.Limit())
	}
	return notExport(why)
}

// thousands writes n with comma thousands separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
