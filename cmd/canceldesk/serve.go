package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	redisstorage "github.com/gofiber/storage/redis/v3"
	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/i18n"
	"github.com/canceldesk/canceldesk/internal/demo"
	"github.com/canceldesk/canceldesk/mail"
	"github.com/canceldesk/canceldesk/payments"
	"github.com/canceldesk/canceldesk/shopify"
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
	fs.StringVar(&cfg.PublicURL, "public-url", env("PUBLIC_URL", ""), "where customers and staff reach the dashboard, e.g. https://desk.example.com: links in emails are built on it; required unless listening on loopback or --demo (env PUBLIC_URL)")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", env("TRUSTED_PROXIES", ""), "comma-separated addresses and CIDR ranges of the load balancers in front: only their X-Forwarded-For is believed (env TRUSTED_PROXIES)")
	fs.BoolVar(&cfg.Demo, "demo", false, "seed demo data and demo accounts into an empty database and show how to sign in")
	cfg.StripeKey = os.Getenv("STRIPE_SECRET_KEY") // a secret: never a flag, which ps would show
	if err := cfg.smtpFromEnv(); err != nil {
		return err
	}
	fs.StringVar(&cfg.StripeAPI, "stripe-api", env("STRIPE_API_BASE", ""), "Stripe API base URL, e.g. a stripe-mock (env STRIPE_API_BASE)")
	fs.BoolVar(&cfg.SecureCookies, "secure-cookies", env("SECURE_COOKIES", "") != "", "mark cookies Secure with the __Host- prefix: set when served over TLS (env SECURE_COOKIES)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The shop's connection, from the environment only (its token and
	// webhook secret are secrets); checked before anything starts.
	shopCfg, shopOK, err := shopify.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	publicURL, err := resolvePublicURL(cfg.PublicURL, cfg.Addr, cfg.Demo)
	if err != nil {
		return err
	}
	cfg.PublicURL = publicURL
	proxies, err := handlers.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies (env TRUSTED_PROXIES): %w", err)
	}
	log := newLogger(stderr)
	if len(proxies) > 0 {
		log.Info("X-Forwarded-For is believed from the trusted proxies only", "trusted_proxies", cfg.TrustedProxies)
	}
	loc, err := loadLocation(cfg.TimeZone)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.SetStatsZone(ctx, loc); err != nil {
		return fmt.Errorf("analytics rollups in %s: %w", loc, err)
	}
	if cfg.Demo {
		if err := demo.Seed(ctx, db, demoOrders, time.Now().UTC()); err != nil {
			return fmt.Errorf("seeding demo data: %w", err)
		}
		if err := nameDemoStore(ctx, db); err != nil {
			return fmt.Errorf("naming the demo store: %w", err)
		}
	}
	bundle, err := i18n.New()
	if err != nil {
		return err
	}
	if cfg.Demo {
		if err := seedDemoAccounts(ctx, db); err != nil {
			return fmt.Errorf("seeding demo accounts: %w", err)
		}
	}
	var endSessions func(context.Context, int64) error // sessions in process ended with the last run
	// The one after-commit hook: every committed write hands it what it
	// changed; the order cache, the payment worker, the Shopify worker and
	// the server's navigation counts each add their part below.
	afterCommit := new(canceldesk.AfterCommit)
	db.OnCommit(afterCommit.Run)
	hc := handlers.Config{
		Store: db, Reasons: db, Accounts: db, Refunds: db, Messages: db, Requests: db, Stats: db, Export: db, Analytics: db, I18n: bundle, Location: loc, Currency: cfg.Currency, Demo: cfg.Demo,
		Logger: log, Ready: db.Ping, SecureCookies: cfg.SecureCookies, PublicURL: cfg.PublicURL,
		TrustedProxies: proxies, AfterCommit: afterCommit,
	}
	if cfg.Redis == "" {
		log.Info("no REDIS_URL: sessions and sign-in limits are kept in process, orders are not cached; run a single instance only")
	} else {
		rdb, err := openRedis(cfg.Redis)
		if err != nil {
			return err
		}
		defer rdb.Close()
		cache := store.NewCache(db, rdb, log)
		afterCommit.Add(cache.Forget)
		hc.Store = cache
		sessions := redisstorage.NewFromConnection(rdb)
		hc.Sessions = sessions
		endSessions = redisSessionEnder(rdb, sessions)
		hc.Limiter = store.NewRedisLimiter(rdb)
		log.Info("Redis: sessions, sign-in limits and the order cache", "addr", rdb.Options().Addr)
	}
	if !cfg.Demo {
		if err := retireDemoAccounts(ctx, db, endSessions, log); err != nil {
			return fmt.Errorf("disabling the demo accounts: %w", err)
		}
	}
	shop, err := newShop(shopCfg, shopOK, db, log)
	if err != nil {
		return err
	}
	payments, err := newPayments(cfg, db, log, shop)
	if err != nil {
		return err
	}
	afterCommit.Add(payments.Kick)
	hc.Payments = payments
	go payments.Run(ctx, refundPollInterval)
	if shop != nil {
		hc.Shopify, hc.ShopifyStore = shop, db
		afterCommit.Add(shop.Kick) // a call queued by a write is sent at once
		go shop.Run(ctx)
	}
	worker, err := newMailWorker(cfg.SMTP, db, log)
	if err != nil {
		return err
	}
	if worker != nil {
		hc.MailDelivering = true
		go worker.Run(ctx, mailIdle)
	}
	app, err := handlers.New(hc)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(cfg.Addr) }()
	log.Info("Cancel Desk is running", "url", "http://"+cfg.Addr, "public_url", cfg.PublicURL, "database", db.Dialect(), "demo", cfg.Demo)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	return app.ShutdownWithTimeout(20 * time.Second)
}

// nameDemoStore signs the demo's customer messages with a store name,
// unless one was set.
func nameDemoStore(ctx context.Context, db *store.DB) error {
	s, err := db.Settings(ctx)
	if err != nil || s.StoreName != canceldesk.DefaultSettings().StoreName {
		return err
	}
	s.StoreName, s.ReplyTo = "Hearth & Clay", "help@hearthandclay.test"
	return db.SaveSettings(ctx, s, demo.Actor)
}

// refundPollInterval is how often pending refunds are asked about again.
const refundPollInterval = 30 * time.Second

// newShop connects the shop of sc; nil when none is configured (ok false).
func newShop(sc shopify.Config, ok bool, db *store.DB, log *slog.Logger) (*shopify.Worker, error) {
	if !ok {
		log.Info("no SHOPIFY_SHOP: no live Shopify connection; orders come from CSV imports")
		return nil, nil
	}
	w, err := newShopifyWorker(sc, db, log)
	if err != nil {
		return nil, err
	}
	log.Info("Shopify: orders sync in; cancels, restocks and refunds of its orders go out through its Admin API",
		"shop", sc.Shop, "api", sc.APIBase, "version", sc.APIVersion, "webhooks", "/webhooks/shopify")
	return w, nil
}

// newPayments sets up the refund gateways: manual always, Stripe when its
// secret key is configured, Shopify for the connected shop's orders.
func newPayments(cfg config, rs canceldesk.RefundStore, log *slog.Logger, shop *shopify.Worker) (*payments.Processor, error) {
	var st *payments.Stripe
	if cfg.StripeKey != "" {
		var err error
		if st, err = payments.NewStripe(payments.StripeConfig{SecretKey: cfg.StripeKey, APIBase: cfg.StripeAPI}); err != nil {
			return nil, fmt.Errorf("stripe: %w", err)
		}
		log.Info("card refunds go through Stripe", "api", cmp.Or(cfg.StripeAPI, "https://api.stripe.com"))
	} else {
		log.Info("no STRIPE_SECRET_KEY: every refund is recorded as issued outside Cancel Desk (manual)")
	}
	reg := payments.NewRegistry(st)
	if shop != nil {
		reg.WithShopify(&payments.Shopify{API: shop.API})
	}
	return &payments.Processor{Store: rs, Registry: reg, Log: log}, nil
}

// mailIdle is how long the mail worker waits when the outbox is empty.
const mailIdle = 5 * time.Second

// newMailWorker starts delivering customer messages when an SMTP server is
// configured; without one (nil, nil) they stay on the Messages page.
func newMailWorker(sc mail.Config, db *store.DB, log *slog.Logger) (*mail.Worker, error) {
	if sc.Host == "" {
		log.Info("no SMTP_HOST: customer messages stay in the outbox; read them on the Messages page")
		return nil, nil
	}
	sender, err := mail.NewSender(sc)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	log.Info("customer messages go out over SMTP", "host", sc.Host, "port", sc.Port, "security", sc.Security)
	return &mail.Worker{Outbox: db, Sender: sender, From: sc.From, Log: log,
		Settings: func(ctx context.Context) (string, string) {
			s, err := db.Settings(ctx)
			if err != nil {
				return "", ""
			}
			return s.StoreName, s.ReplyTo
		}}, nil
}

// redisSessionEnder ends every session of an account kept in Redis, the
// way handlers.Server.endAccountSessions does: through the index of each
// account's sessions beside them.
func redisSessionEnder(rdb *redis.Client, sessions *redisstorage.Storage) func(context.Context, int64) error {
	idx := store.NewRedisSessionIndex(rdb, handlers.AbsoluteTimeout)
	return func(ctx context.Context, acct int64) error {
		ids, err := idx.IDs(ctx, acct)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := sessions.Delete(id); err != nil {
				return err
			}
		}
		return idx.Remove(ctx, acct, ids...)
	}
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
	// One dial, not five 100 ms apart: a Redis that is down must fail a
	// request over to the database (or the sign-in-unavailable page) at once.
	opt.DialerRetries = 1
	return redis.NewClient(opt), nil
}

// demoPassword signs in every demo account; the login page shows it in demo mode only.
const demoPassword = "demo-password"

// demoAccounts are the accounts --demo creates, owner first.
var demoAccounts = []canceldesk.Account{
	{Name: "Olivia Owner", Email: "owner@demo.canceldesk.test", Role: canceldesk.RoleOwner},
	{Name: "陳經理 Manager", Email: "manager@demo.canceldesk.test", Role: canceldesk.RoleManager},
	{Name: "Sam Staff", Email: "staff@demo.canceldesk.test", Role: canceldesk.RoleStaff},
}

// retireDemoAccounts disables the demo accounts, whose password the demo's
// sign-in page shows to anyone, when the server runs without --demo, and
// ends their sessions (endSessions; nil when sessions live in process and
// ended with the last run). A demo owner who is the store's only active
// owner cannot be disabled: its password becomes a random one instead, so
// the public one no longer signs in, and the log says how to add an owner.
// One log line names the accounts retired.
func retireDemoAccounts(ctx context.Context, st canceldesk.AccountStore, endSessions func(context.Context, int64) error, log *slog.Logger) error {
	var disabled, locked []string
	for i := len(demoAccounts) - 1; i >= 0; i-- { // the owner last, once the others are off
		a, err := st.AccountByEmail(ctx, demoAccounts[i].Email)
		if canceldesk.ErrorCode(err) == canceldesk.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		if !a.Active() {
			continue
		}
		_, err = st.UpdateAccount(ctx, a.ID, a.Role, true)
		switch {
		case err == nil:
			disabled = append(disabled, a.Email)
		case canceldesk.ErrorCode(err) == canceldesk.ECONFLICT: // the only owner
			hash, herr := canceldesk.HashPassword(randomPassword())
			if herr != nil {
				return herr
			}
			if err := st.SetPassword(ctx, a.ID, hash); err != nil {
				return err
			}
			locked = append(locked, a.Email)
		default:
			return err
		}
		if endSessions != nil {
			if err := endSessions(ctx, a.ID); err != nil {
				return fmt.Errorf("ending the sessions of %s: %w", a.Email, err)
			}
		}
	}
	if len(disabled) > 0 {
		log.Warn("demo accounts disabled and signed out: this server runs without --demo", "accounts", strings.Join(disabled, ", "))
	}
	if len(locked) > 0 {
		log.Warn("the demo owner is the store's only owner: its demo password no longer signs in; add an owner with `canceldesk user add`",
			"accounts", strings.Join(locked, ", "))
	}
	return nil
}

// randomPassword is a password nobody knows.
func randomPassword() string { return rand.Text() + rand.Text() }

// seedDemoAccounts creates an owner, a manager and a staff member when the
// store has no accounts yet.
func seedDemoAccounts(ctx context.Context, st canceldesk.AccountStore) error {
	if n, err := st.CountAccounts(ctx); err != nil || n > 0 {
		return err
	}
	hash, err := canceldesk.HashPassword(demoPassword)
	if err != nil {
		return err
	}
	for _, a := range demoAccounts {
		a.PasswordHash = hash
		if err := st.CreateAccount(ctx, &a); err != nil {
			return err
		}
	}
	return nil
}
