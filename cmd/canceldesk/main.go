// Command canceldesk runs the Cancel Desk dashboard and its tools.
//
//	canceldesk [serve] [flags]     run the dashboard (the default)
//	canceldesk import FILE...      import Shopify order-export CSV files
//	canceldesk user add|list|...   manage staff accounts
//	canceldesk shopify sync        backfill every order of the connected shop
//
// Configuration comes from flags, with environment variables as defaults:
// LISTEN_ADDR, PUBLIC_URL, TRUSTED_PROXIES, DATABASE_URL, REDIS_URL, STORE_TIMEZONE, STORE_CURRENCY.
// A Shopify shop is connected from the environment only: SHOPIFY_SHOP,
// SHOPIFY_ACCESS_TOKEN, SHOPIFY_WEBHOOK_SECRET, SHOPIFY_API_BASE, SHOPIFY_API_VERSION.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/canceldesk/canceldesk/mail"
	"github.com/canceldesk/canceldesk/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "canceldesk:", err)
		os.Exit(1)
	}
}

// config is everything the commands read from flags and the environment.
type config struct {
	Addr     string
	Database string
	Redis    string
	TimeZone string
	Currency string
	Demo     bool
	// PublicURL is where customers and staff reach the dashboard: the base
	// of every link in emails and invitations.
	PublicURL string
	// TrustedProxies lists the load balancers (addresses and CIDR ranges)
	// whose X-Forwarded-For is believed.
	TrustedProxies string
	// SecureCookies: the dashboard is served over TLS.
	SecureCookies bool
	// Stripe: card refunds go through Stripe when the secret key is set.
	StripeKey, StripeAPI string
	// SMTP delivers customer messages when its host is set.
	SMTP mail.Config
}

// smtpFromEnv reads the mail server from SMTP_HOST, SMTP_PORT (587),
// SMTP_USERNAME, SMTP_PASSWORD, SMTP_SECURITY (starttls, tls or none;
// starttls) and SMTP_FROM: environment only, as it holds a password.
func (c *config) smtpFromEnv() error {
	c.SMTP = mail.Config{Host: os.Getenv("SMTP_HOST"), Port: 587, Username: os.Getenv("SMTP_USERNAME"),
		Password: os.Getenv("SMTP_PASSWORD"), Security: env("SMTP_SECURITY", "starttls"), From: os.Getenv("SMTP_FROM")}
	if v := os.Getenv("SMTP_PORT"); v != "" {
		port, err := strconv.Atoi(v)
		if err != nil || port <= 0 || port > 65535 {
			return fmt.Errorf("SMTP_PORT %q is not a port", v)
		}
		c.SMTP.Port = port
	}
	return nil
}

func (c *config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Database, "db", env("DATABASE_URL", "canceldesk.db"), "SQLite file, or a postgres:// URL (env DATABASE_URL)")
	fs.StringVar(&c.TimeZone, "tz", env("STORE_TIMEZONE", "UTC"), "the store's time zone, e.g. Asia/Taipei (env STORE_TIMEZONE)")
	fs.StringVar(&c.Currency, "currency", env("STORE_CURRENCY", "USD"), "currency for imported orders that name none (env STORE_CURRENCY)")
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr)
	case "import":
		return importFiles(ctx, args, stdout, stderr)
	case "user":
		return userCommand(ctx, args, stdout, stderr)
	case "shopify":
		return shopifyCommand(ctx, args, stdout, stderr)
	case "help":
		fmt.Fprintln(stdout, "usage: canceldesk [serve|import|user|shopify] [flags]; canceldesk COMMAND -h for flags")
		return nil
	}
	return fmt.Errorf("unknown command %q (try: serve, import, user, shopify)", cmd)
}

// openStore opens the database named by the config.
func openStore(ctx context.Context, cfg config) (*store.DB, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("opening the database: %w", err)
	}
	return db, nil
}

func loadLocation(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return loc, nil
}

func newLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

var errUsage = errors.New("usage")
