package shopifycsv

import (
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk"
)

// repeat reads as unit repeated up to size bytes, without holding them.
type repeat struct {
	unit string
	size int64
	done int64
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.done >= r.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	n = min(n, r.size-r.done)
	for i := range p[:n] {
		p[i] = r.unit[(r.done+int64(i))%int64(len(r.unit))]
	}
	r.done += n
	return int(n), nil
}

// counting counts the bytes read through it.
type counting struct {
	r io.Reader
	n int64
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// huge is a file of head, then unit repeated to 16 MB, then tail.
func huge(head, unit, tail string) *counting {
	return &counting{r: io.MultiReader(strings.NewReader(head), &repeat{unit: unit, size: 16 << 20}, strings.NewReader(tail))}
}

// parseMeasured parses r and returns what Parse returned and the bytes the
// heap allocated meanwhile.
func parseMeasured(t *testing.T, r io.Reader) (*Result, error, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := Parse(r, Options{})
	runtime.ReadMemStats(&after)
	return res, err, after.TotalAlloc - before.TotalAlloc
}

// smallAlloc bounds what parsing one 16 MB row may allocate: a few rows'
// worth, far below the file.
const smallAlloc = 4 << 20

func TestParseRefusesHugeHeader(t *testing.T) {
	for _, tc := range []struct {
		name       string
		file       *counting
		kind       string
		message    string
		readAtMost int64
	}{{
		name:    "16 MB of columns",
		file:    huge("Name,Lineitem quantity,Lineitem name,Lineitem price", ",Extra", "\n#1,1,Tea,1.00\n"),
		kind:    "columns",
		message: "This file is not a Shopify order export: row 1 has more than 4,096 columns, the most Cancel Desk reads.",
		// The columns up to the limit, and what the buffers read ahead.
		readAtMost: 64 << 10,
	}, {
		name:       "a 16 MB cell",
		file:       huge("Name,Lineitem quantity,Lineitem name,Lineitem price,", "x", "\n#1,1,Tea,1.00\n"),
		kind:       "cell",
		message:    "This file is not a Shopify order export: row 1 has a cell longer than 64 KiB, the most Cancel Desk reads.",
		readAtMost: MaxFieldBytes + 64<<10,
	}, {
		name:       "16 MB of 60 KiB cells",
		file:       huge("Name,Lineitem quantity,Lineitem name,Lineitem price", ","+strings.Repeat("y", 60<<10), "\n#1,1,Tea,1.00\n"),
		kind:       "row",
		message:    "This file is not a Shopify order export: row 1 is longer than 256 KiB, the most Cancel Desk reads.",
		readAtMost: MaxRowBytes + 64<<10,
	}, {
		name:       "after blank lines, the header's row is named",
		file:       &counting{r: io.MultiReader(strings.NewReader("\n\nName,"), &repeat{unit: "x", size: 1 << 20})},
		kind:       "cell",
		message:    "This file is not a Shopify order export: row 3 has a cell longer than 64 KiB, the most Cancel Desk reads.",
		readAtMost: MaxFieldBytes + 64<<10,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			res, err, alloc := parseMeasured(t, tc.file)
			var le *LimitError
			var de *canceldesk.Error
			if !errors.As(err, &le) || !errors.As(err, &de) || de.Code != canceldesk.EINVALID {
				t.Fatalf("Parse = %v, %v; want a LimitError that is an EINVALID error", res, err)
			}
			if le.Kind != tc.kind || de.Message != tc.message || canceldesk.ErrorMessage(err) != tc.message {
				t.Errorf("kind %q, message:\n got %q\nwant %q", le.Kind, de.Message, tc.message)
			}
			if tc.file.n > tc.readAtMost {
				t.Errorf("read %d bytes of the file before refusing it; want at most %d", tc.file.n, tc.readAtMost)
			}
			if alloc > smallAlloc {
				t.Errorf("parsing allocated %d bytes; want under %d", alloc, smallAlloc)
			}
		})
	}
}

func TestParseRefusesHugeRows(t *testing.T) {
	head := mini(good1, first3001, later3001, good2, "Pie,#2003,3.00,1,2026-03-01 09:00,USD,,,,,,")
	for _, tc := range []struct {
		name       string
		row, after string // around 16 MB of unit
		unit       string
		wantErrors []string
		wantOrders []string
	}{{
		name: "a 16 MB cell drops its order and the rest imports",
		row:  "Cake,#2004,3.00,1,2026-03-01 09:00,USD,", unit: "x", after: ",,,,,\nBun,#2005,3.00,1,2026-03-01 09:00,USD,,,,,,\n",
		wantErrors: []string{"row 7 (#2004): Email is longer than 64 KiB"},
		wantOrders: []string{"#2001", "#3001", "#2002", "#2003", "#2005"},
	}, {
		name: "a 16 MB quoted cell of line breaks keeps the rows after it numbered",
		row:  `Cake,#2004,3.00,1,2026-03-01 09:00,USD,"`, unit: "a\"\"\n", after: "\",,,,,\nBun,#2005,3.00,x,2026-03-01 09:00,USD,,,,,,\n" +
			`Bad "quote",#2006,3.00,1,2026-03-01 09:00,USD,,,,,,` + "\n",
		wantErrors: []string{"row 7 (#2004): Email is longer than 64 KiB", `row 8 (#2005): Lineitem quantity "x" is not a whole number`,
			`row 9 (#2006): this row cannot be read: a " appears in a cell that is not in quotes, at line 4194313, column 5 of the file`},
		wantOrders: []string{"#2001", "#3001", "#2002", "#2003"},
	}, {
		name: "16 MB of columns drops the order",
		row:  "Cake,#2004,3.00,1,2026-03-01 09:00,USD", unit: ",z", after: "\nBun,#2005,3.00,1,2026-03-01 09:00,USD,,,,,,\n",
		wantErrors: []string{"row 7 (#2004): the row has more than 4,096 columns, the most Cancel Desk reads"},
		wantOrders: []string{"#2001", "#3001", "#2002", "#2003", "#2005"},
	}, {
		name: "16 MB of empty columns is no blank row",
		row:  "", unit: ",", after: "\nBun,#2005,3.00,1,2026-03-01 09:00,USD,,,,,,\n",
		wantErrors: []string{"row 7: the row has more than 4,096 columns, the most Cancel Desk reads; Name is empty, so the row cannot be matched to an order"},
		wantOrders: []string{"#2001", "#3001", "#2002", "#2003", "#2005"},
	}, {
		name: "a row over 256 KiB drops its order",
		row:  "Cake,#2004,3.00,1,2026-03-01 09:00,USD", unit: "," + strings.Repeat("w", 60<<10), after: "\nBun,#2005,3.00,1,2026-03-01 09:00,USD,,,,,,\n",
		wantErrors: []string{"row 7 (#2004): the row is longer than 256 KiB, the most Cancel Desk reads"},
		wantOrders: []string{"#2001", "#3001", "#2002", "#2003", "#2005"},
	}, {
		name: "a quote never closed over 16 MB drops every order read",
		row:  `Cake,#2004,"`, unit: "v\n#2001,", after: "",
		wantErrors: []string{"row 7 (#2004): this row cannot be read: a quoted cell that starts on it is never closed, so the rest of the file (lines 7 to 2097159) was not read",
			"row 7 (#2001): some rows of this order may be in the part of the file that was not read (from row 7)",
			"row 7 (#3001): some rows of this order may be in the part of the file that was not read (from row 7)",
			"row 7 (#2002): some rows of this order may be in the part of the file that was not read (from row 7)",
			"row 7 (#2003): some rows of this order may be in the part of the file that was not read (from row 7)"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			res, err, alloc := parseMeasured(t, huge(head+tc.row, tc.unit, tc.after))
			if err != nil {
				t.Fatal(err)
			}
			if got := errorStrings(res.Errors); !reflect.DeepEqual(got, tc.wantErrors) {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.wantErrors)
			}
			if got := orderNames(res.Orders); !reflect.DeepEqual(got, tc.wantOrders) {
				t.Errorf("orders = %q, want %q", got, tc.wantOrders)
			}
			if alloc > smallAlloc {
				t.Errorf("parsing allocated %d bytes; want under %d", alloc, smallAlloc)
			}
		})
	}
}

func TestParseRowWithoutItsName(t *testing.T) {
	head := "Lineitem quantity,Lineitem name,Lineitem price,Created at" + strings.Repeat(",Extra", 20) + ",Name\n" +
		"1,Tea,1.00,2026-03-01 09:00" + strings.Repeat(",", 20) + ",#1\n"
	res, err, alloc := parseMeasured(t, huge(head+"1,Cake,3.00,", strings.Repeat("w", 60<<10)+",", "\n2,Tea,1.00,2026-03-01 09:00"+strings.Repeat(",", 20)+",#2\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"row 3 (#1): the row is longer than 256 KiB, the most Cancel Desk reads; its Name was not read, " +
		"so the row cannot be matched to its order; order #1 above it is skipped as well, in case the row belongs to it"}
	if got := errorStrings(res.Errors); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
	if got := orderNames(res.Orders); !reflect.DeepEqual(got, []string{"#2"}) {
		t.Errorf("orders = %q, want #2 alone", got)
	}
	if alloc > smallAlloc {
		t.Errorf("parsing allocated %d bytes; want under %d", alloc, smallAlloc)
	}
}

// TestParseLimitsAtTheEdge checks the limits are where they say.
func TestParseLimitsAtTheEdge(t *testing.T) {
	wide := func(cells int) string {
		return "Name,Lineitem quantity,Lineitem name,Lineitem price" + strings.Repeat(",", cells-4) + "\n"
	}
	if _, err := Parse(strings.NewReader(wide(MaxColumns)+"#1,1,Tea,1.00\n"), Options{}); err != nil {
		t.Errorf("a header of %d columns: %v", MaxColumns, err)
	}
	if _, err := Parse(strings.NewReader(wide(MaxColumns+1)), Options{}); err == nil {
		t.Errorf("a header of %d columns is accepted", MaxColumns+1)
	}
	cell := func(n int) string { return `"` + strings.Repeat(`""`, n) + `"` }
	res := parse(t, "Name,Created at,Lineitem quantity,Lineitem name,Lineitem price,Notes\n"+
		"#1,2026-03-01 09:00,1,Tea,1.00,"+cell(MaxFieldBytes)+"\n#2,2026-03-01 09:00,1,Tea,1.00,"+cell(MaxFieldBytes+1)+"\n", Options{})
	if got := errorStrings(res.Errors); !reflect.DeepEqual(got, []string{"row 3 (#2): Notes is longer than 64 KiB"}) ||
		len(res.Orders) != 1 || len(res.Orders[0].Notes) != MaxFieldBytes {
		t.Errorf("errors %q, orders %q", got, orderNames(res.Orders))
	}
	row := "#1,2026-03-01 09:00,1,Tea,1.00,"
	header := "Name,Created at,Lineitem quantity,Lineitem name,Lineitem price,A,B,C,D,E\n"
	for _, tc := range []struct {
		size   int
		errors []string
	}{{MaxRowBytes, nil}, {MaxRowBytes + 1, []string{"row 2 (#1): the row is longer than 256 KiB, the most Cancel Desk reads"}}} {
		long := row
		for len(long) < tc.size {
			cell := strings.Repeat("n", min(60<<10, tc.size-len(long)-1))
			long += cell + ","
		}
		res = parse(t, header+long+"\n", Options{})
		if got := errorStrings(res.Errors); !reflect.DeepEqual(got, tc.errors) {
			t.Errorf("a row of %d bytes: errors %q, want %q", tc.size, got, tc.errors)
		}
	}
}

// FuzzBounded checks that a file within the limits passes through the
// limits unchanged, whatever its quoting.
func FuzzBounded(f *testing.F) {
	for _, s := range []string{
		shopifyExport,
		mini(good1, first3001, `Saucer 6" wide,#3001,2.00,1,,,,,,,,`, later3001, good2),
		mini(good1, `Saucer,#3001,"2.00,1,,,,,,,,`, "Scone,#2001,1.00,1,,,,,,,,"),
		"a,\"b\"\"c\",\"d\ne\"\n\n\"x\"y,z\n\"",
		"\"\"\"\",\"\",,\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > MaxColumns { // no limit can be reached below this
			return
		}
		got, err := io.ReadAll(newBounded(strings.NewReader(string(data))))
		if err != nil || string(got) != string(data) {
			t.Fatalf("%q passed as %q, %v", data, got, err)
		}
	})
}

// FuzzBoundedRows checks that the limits end rows where encoding/csv
// does: were they to see a line break outside quotes where encoding/csv
// is inside a quoted cell, its record could grow past every limit.
func FuzzBoundedRows(f *testing.F) {
	for _, s := range []string{
		mini(good1, first3001, `Saucer 6" wide,#3001,2.00,1,,,,,,,,`, later3001, good2),
		"a,\"b\"\"c\",\"d\ne\"\n\n\"x\"y,z\n\"q\nr\n",
		"x\"y,\"z\nw\"\n\"a\"\"\n\"\"\n,\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Line ends reach the limits as Parse passes them: LF alone.
		data, _ = io.ReadAll(&newlines{r: strings.NewReader(string(data))})
		var csvEnds, ends []int64
		cr := csv.NewReader(strings.NewReader(string(data)))
		cr.FieldsPerRecord = -1
		for {
			_, err := cr.Read()
			var pe *csv.ParseError
			if err != nil && !errors.As(err, &pe) {
				break
			}
			csvEnds = append(csvEnds, cr.InputOffset())
		}
		b := newBounded(nil)
		for _, c := range data {
			started := b.row.started
			if b.step(c); started && !b.row.started {
				ends = append(ends, b.emitted)
			}
		}
		if b.row.started { // the last row, ended by the end of the file
			ends = append(ends, int64(len(data)))
		}
		if !slices.Equal(csvEnds, ends) {
			t.Fatalf("rows of %q end at %v; encoding/csv's at %v", data, ends, csvEnds)
		}
	})
}
