package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/i18n"
	"github.com/canceldesk/canceldesk/internal/demo"
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
	if cfg.Redis == "" {
		log.Info("no REDIS_URL: using in-process sessions and limits; run a single instance only")
	}
	app, err := handlers.New(handlers.Config{
		Store: db, I18n: bundle, Location: loc, Currency: cfg.Currency, Demo: cfg.Demo, Logger: log, Ready: db.Ping,
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
