package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/i18n"
	"github.com/canceldesk/canceldesk/internal/demo"
	"github.com/canceldesk/canceldesk/store"
)

// demoOrders is how many orders --demo seeds into an empty database.
const demoOrders = 3000

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs)
	fs.StringVar(&cfg.Addr, "addr", env("LISTEN_ADDR", "127.0.0.1:8080"), "listen address (env LISTEN_ADDR)")
	fs.StringVar(&cfg.Redis, "redis", env("REDIS_URL", ""), "Redis URL for sessions and cache (env REDIS_URL)")
	fs.BoolVar(&cfg.Demo, "demo", false, "seed demo data into an empty database and show demo hints")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := newLogger(stderr)
	loc, err := loadLocation(cfg.TimeZone)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.Demo {
		if err := demo.Seed(ctx, db, demoOrders, time.Now().UTC()); err != nil {
			return fmt.Errorf("seeding demo data: %w", err)
		}
	}
	bundle, err := i18n.New()
	if err != nil {
		return err
	}
	var orders canceldesk.OrderStore = db
	if cfg.Redis == "" {
		log.Info("no REDIS_URL: using in-process sessions and limits, no order cache; run a single instance only")
	} else {
		rdb, err := openRedis(cfg.Redis)
		if err != nil {
			return err
		}
		defer rdb.Close()
		orders = store.NewCache(db, rdb, log)
		log.Info("Redis connected: caching orders", "addr", rdb.Options().Addr)
	}
	app, err := handlers.New(handlers.Config{
		Store: orders, I18n: bundle, Location: loc, Currency: cfg.Currency, Demo: cfg.Demo, Logger: log, Ready: db.Ping,
	})
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(cfg.Addr) }()
	log.Info("Cancel Desk is running", "url", "http://"+cfg.Addr, "database", db.Dialect(), "demo", cfg.Demo)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	return app.ShutdownWithTimeout(20 * time.Second)
}

// openRedis makes a client with short timeouts: Redis holds a cache and
// sessions, and a slow Redis must not hold requests up for long.
func openRedis(url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	opt.DialTimeout = 250 * time.Millisecond
	opt.ReadTimeout = 100 * time.Millisecond
	opt.WriteTimeout = 100 * time.Millisecond
	opt.MaxRetries = 1
	return redis.NewClient(opt), nil
}
