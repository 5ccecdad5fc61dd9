package store

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestCachedStatements: a SQLite connection runs a query again through
// the statement it prepared the first time; the same text run while its
// rows are still open (a nested read) gets a statement of its own, and a
// statement forgotten while in use still reads to the end.
func TestCachedStatements(t *testing.T) {
	// a statement run twice at once can hang instead of failing: the
	// deadline turns that into an error
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := openSQLite(sqliteDSN(filepath.Join(t.TempDir(), "cache.db"), true))
	t.Cleanup(func() { pool.Close() })
	pool.SetMaxOpenConns(1)
	if _, err := pool.ExecContext(ctx, `CREATE TABLE n (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := pool.ExecContext(ctx, `INSERT INTO n (v) VALUES (?)`, i); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var cc *cachingConn
	if err := conn.Raw(func(dc any) error { cc = dc.(*cachingConn); return nil }); err != nil {
		t.Fatal(err)
	}

	const q = `SELECT v FROM n WHERE v >= ? ORDER BY v`
	sum := func() (total int) {
		rows, err := conn.QueryContext(ctx, q, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for n := 0; rows.Next(); n++ {
			if n == 3 {
				t.Fatal("a read of three rows goes on: its statement was restarted")
			}
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			total += v
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return total
	}
	if got := sum(); got != 6 {
		t.Fatalf("first read: sum %d, want 6", got)
	}
	first := cc.stmts[q]
	if first == nil || first.busy {
		t.Fatalf("the query's statement is not kept free after its rows closed: %+v", first)
	}
	if got := sum(); got != 6 || cc.stmts[q] != first {
		t.Fatalf("second read: sum %d, statement reused %v", got, cc.stmts[q] == first)
	}

	// Nested: the outer rows stay open while the same text runs inside.
	outer, err := conn.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	for outer.Next() {
		var v int
		if err := outer.Scan(&v); err != nil {
			t.Fatal(err)
		}
		if seen = append(seen, v); len(seen) > 3 {
			t.Fatalf("outer rows read %v: the nested read restarted them", seen)
		}
		if got := sum(); got != 6 {
			t.Fatalf("nested read beside row %d: sum %d, want 6", v, got)
		}
		if len(seen) == 2 {
			cc.forget() // forgotten while the outer rows are open
		}
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if len(seen) != 3 || seen[0] != 1 || seen[2] != 3 {
		t.Fatalf("outer rows read %v beside the nested reads, want [1 2 3]", seen)
	}

	// Past the bound the connection starts over and keeps answering.
	for i := range maxCachedStmts + 10 {
		var v int
		if err := conn.QueryRowContext(ctx, `SELECT `+strconv.Itoa(i)).Scan(&v); err != nil || v != i {
			t.Fatalf("query %d: %d, %v", i, v, err)
		}
	}
	if n := len(cc.stmts); n > maxCachedStmts {
		t.Fatalf("%d statements kept, bound %d", n, maxCachedStmts)
	}
}

// TestBackgroundCheckpoint: a small write reaches the database file
// itself (not only the write-ahead log) without another write and long
// before the writer's own checkpoint would copy it: the background
// checkpoint did. A reader opened with immutable=1 sees the file alone.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wal.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE marks (v TEXT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO marks (v) VALUES ('checkpointed')`); err != nil {
		t.Fatal(err)
	}
	file := openSQLite("file:" + path + "?immutable=1")
	defer func() { file.Close() }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var v string
		err := file.QueryRowContext(ctx, `SELECT v FROM marks`).Scan(&v)
		if err == nil && v == "checkpointed" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s the database file still lacks the write (%v): nothing checkpointed it", err)
		}
		file.Close()
		file = openSQLite("file:" + path + "?immutable=1")
	}
}

// TestWritersTakeTurns: on SQLite a write waits for the one in progress
// and gives up when its context ends while it waits, without running.
func TestWritersTakeTurns(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "turns.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	inside, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.tx(ctx, func(*Tx) error { close(inside); <-release; return nil })
	}()
	<-inside

	waiting, cancel := context.WithCancel(ctx)
	second := make(chan error, 1)
	ran := false
	go func() { second <- db.tx(waiting, func(*Tx) error { ran = true; return nil }) }()
	select {
	case err := <-second:
		t.Fatalf("a second write went ahead while the first was in progress: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("the waiting write: %v, ran %v; want context.Canceled without running", err, ran)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := db.tx(ctx, func(*Tx) error { return nil }); err != nil {
		t.Fatalf("a write after both: %v", err)
	}
}
