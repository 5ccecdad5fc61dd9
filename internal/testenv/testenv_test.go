package testenv_test

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk/internal/testenv"
)

func TestPostgresSchema(t *testing.T) {
	var schema string
	t.Run("selected", func(t *testing.T) {
		dsn := testenv.PostgresSchema(t)
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		sp := u.Query().Get("search_path")
		schema, _, _ = strings.Cut(sp, ",")
		if !strings.HasPrefix(schema, "test_") || !strings.HasSuffix(sp, ",public") {
			t.Fatalf("search_path = %q, want test_<hex>,public", sp)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		// database/sql with pgx, as the store opens it.
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()

		var current string
		if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
			t.Fatal(err)
		}
		if current != schema {
			t.Errorf("current_schema() = %q, want %q", current, schema)
		}
		if _, err := db.ExecContext(ctx, `CREATE TABLE t (x int)`); err != nil {
			t.Fatal(err)
		}
		var got string
		err = db.QueryRowContext(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = 't' AND table_schema = $1`, schema).Scan(&got)
		if err != nil {
			t.Fatalf("table t not found in schema %s: %v", schema, err)
		}
		// The trigram operators resolve through public.
		var sim float64
		if err := db.QueryRowContext(ctx, `SELECT similarity('cancel desk', 'cancel')`).Scan(&sim); err != nil {
			t.Fatalf("pg_trgm not usable from the test schema: %v", err)
		}
		if sim <= 0 {
			t.Errorf("similarity = %v, want > 0", sim)
		}
		if _, err := db.ExecContext(ctx, `CREATE INDEX t_trgm ON t USING gin ((x::text) gin_trgm_ops)`); err != nil {
			t.Fatalf("gin_trgm_ops not usable from the test schema: %v", err)
		}

		// A second schema is distinct.
		if other := testenv.PostgresSchema(t); other == dsn {
			t.Errorf("two calls returned the same URL %s", dsn)
		}
	})

	// After the subtest, its cleanup has dropped the schema.
	if schema == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1`, schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("schema %s still exists after the test ended", schema)
	}
}

func TestRedisURL(t *testing.T) {
	raw := testenv.RedisURL(t)
	opt, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := "testenv:" + t.Name() + ":" + time.Now().Format(time.RFC3339Nano)
	if err := rdb.Set(ctx, key, "ok", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	defer rdb.Del(context.Background(), key)
	if got, err := rdb.Get(ctx, key).Result(); err != nil || got != "ok" {
		t.Fatalf("GET %s = %q, %v; want ok", key, got, err)
	}
}

func TestChromiumPath(t *testing.T) {
	if p := testenv.ChromiumPath(t); p == "" {
		t.Fatal("empty path")
	}
}
