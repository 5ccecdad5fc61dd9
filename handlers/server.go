// Package handlers is Cancel Desk's HTTP layer on Fiber v2: the route table,
// middleware, one file per area and the render helper that decides between a
// full page and an HTMX fragment. It never touches SQL: everything goes
// through the domain's store interface.
package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/gofiber/template/html/v2"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/i18n"
	"github.com/canceldesk/canceldesk/store"
	"github.com/canceldesk/canceldesk/views"
)

// Config carries the dependencies of the HTTP layer.
type Config struct {
	Store    canceldesk.OrderStore
	I18n     *i18n.Bundle
	Location *time.Location // the store's time zone, for display and date filters
	Currency string         // default currency for imports that name none
	Demo     bool           // demo mode: seeded data, demo hints on pages
	Logger   *slog.Logger
	// Ready reports whether the database answers, for /healthz.
	Ready func(context.Context) error

	Accounts canceldesk.AccountStore
	// Refunds keeps refunds, restocks and settings.
	Refunds canceldesk.RefundStore
	// Messages keeps message templates and the customer messages owed.
	Messages canceldesk.MessageStore
	// Stats reads the analytics rollups.
	Stats canceldesk.StatsStore
	// Analytics reads the figures the rollups do not keep.
	Analytics canceldesk.AnalyticsStore
	// Export reads the cancellations export (CSV).
	Export canceldesk.ExportStore
	// Requests keeps customers' cancellation requests.
	Requests canceldesk.RequestStore
	// Reasons keeps the cancel dialog's reasons; unset, Store's or
	// Refunds' when either keeps them (Store may be a cache in front).
	Reasons canceldesk.ReasonStore
	// MailDelivering: an SMTP server is configured and a worker sends the
	// messages; without one they stay on the Messages page.
	MailDelivering bool
	// Payments picks refund gateways; nil records every refund as issued
	// outside (the manual gateway). The gateways are asked after commit,
	// by the payment worker's part of AfterCommit.
	Payments Payments
	// AfterCommit is the store's after-commit hook (serve builds it): the
	// server adds its part, which drops the navigation counts and the rate
	// alert this instance keeps when a write changes what they count.
	// Without it they are recounted after their short TTL only; so they
	// are on other instances, whose copies are in process.
	AfterCommit *canceldesk.AfterCommit
	// Shopify is the live Shopify connection, nil when SHOPIFY_SHOP is
	// unset; ShopifyStore keeps its queue, calls and state.
	Shopify      ShopifyConn
	ShopifyStore canceldesk.ShopifyStore
	// Sessions stores sessions (Redis); nil keeps them in process.
	Sessions fiber.Storage
	// Limiter counts sign-in attempts; nil counts in process.
	Limiter Limiter
	// SecureCookies marks cookies Secure with the __Host- prefix: set it
	// when the dashboard is served over TLS.
	SecureCookies bool
	// PublicURL is where customers and staff reach the dashboard, e.g.
	// https://desk.example.com: every absolute link (status links in
	// messages, invitations) is built on it, never on the request's Host,
	// which the sender chooses. Empty: http://localhost.
	PublicURL string
	// TrustedProxies are the load balancers and proxies in front of the
	// dashboard: only from them is X-Forwarded-For believed (see clientIP).
	TrustedProxies []netip.Prefix
	// Now is the clock; tests move it.
	Now func() time.Time
}

// Payments is what the handlers need of the payment gateways
// (payments.Processor).
type Payments interface {
	// GatewayFor names the gateway refunds of an order go through.
	GatewayFor(o *canceldesk.Order) string
}

// Limiter counts attempts per key in fixed windows (store.RedisLimiter,
// store.MemoryLimiter).
type Limiter interface {
	Hit(ctx context.Context, key string, window time.Duration) (int, error)
	Count(ctx context.Context, key string) (int, error)
	// Undo takes back one attempt Hit counted, e.g. a sign-in that succeeded.
	Undo(ctx context.Context, key string) error
	Reset(ctx context.Context, key string) error
}

// Server holds the handlers' dependencies.
type Server struct {
	Config
	assets       assetVersions
	views        *html.Engine
	sessionStore *session.Store
	backlog      backlogCount
	requests     backlogCount // pending customer requests, for the navigation
	alert        alertCache
	listCounts   keptByKey[int]              // the orders list's bounded count per filter
	analyticsFig keptByKey[analyticsFigures] // the analytics page's figures and chart per range
	// passwordSlots holds one token per password check running.
	passwordSlots chan struct{}
	sessionIndex  SessionIndex // each account's sessions
}

// New builds the Fiber app with every route.
func New(cfg Config) (*fiber.App, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Currency == "" {
		cfg.Currency = "USD"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Limiter == nil {
		cfg.Limiter = store.NewMemoryLimiter(cfg.Now)
	}
	if cfg.Reasons == nil {
		cfg.Reasons, _ = cfg.Store.(canceldesk.ReasonStore)
	}
	if cfg.Reasons == nil {
		cfg.Reasons, _ = cfg.Refunds.(canceldesk.ReasonStore)
	}
	if cfg.Store == nil || cfg.Reasons == nil || cfg.Accounts == nil || cfg.Refunds == nil || cfg.Messages == nil || cfg.Requests == nil || cfg.Stats == nil || cfg.Export == nil || cfg.Analytics == nil {
		return nil, errors.New("handlers: Config needs Store, Reasons, Accounts, Refunds, Messages, Requests, Stats, Analytics and Export")
	}
	s := &Server{Config: cfg, sessionStore: newSessionStore(cfg), backlog: backlogCount{ttl: 5 * time.Second},
		requests: backlogCount{ttl: 5 * time.Second}, listCounts: keptByKey[int]{ttl: 10 * time.Second},
		analyticsFig: keptByKey[analyticsFigures]{ttl: 10 * time.Second}, passwordSlots: make(chan struct{}, passwordSlotCount)}
	if cfg.AfterCommit != nil {
		cfg.AfterCommit.Add(s.committed)
	}
	var err error
	if s.sessionIndex, err = newSessionIndex(cfg.Sessions); err != nil {
		return nil, err
	}
	if s.assets, err = hashAssets(); err != nil {
		return nil, err
	}
	engine := html.NewFileSystem(http.FS(views.FS), ".html")
	engine.AddFunc("asset", s.assets.url)
	engine.AddFunc("int64", func(n int) int64 { return int64(n) })
	engine.AddFunc("timelineEntry", timelineEntry)
	engine.AddFunc("gatewayKey", gatewayKey)
	engine.AddFunc("age", age)
	engine.AddFunc("add", func(a, b int) int { return a + b })
	engine.AddFunc("sub", func(a, b int) int { return a - b })
	engine.AddFunc("list", func(s ...string) []string { return s })
	if err := engine.Load(); err != nil {
		return nil, err
	}
	s.views = engine
	app := fiber.New(fiber.Config{
		ErrorHandler:          s.errorHandler,
		BodyLimit:             maxUploadBody,  // the most any request carries; bodyLimits sets each request's
		ReadBufferSize:        maxHeaderBytes, // the request line and headers
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		// A multipart body is parsed when a field is first read (after the
		// route's role check), not by fasthttp as it arrives.
		DisablePreParseMultipartForm: true,
	})
	refuseOversizeBodies(app.Server())
	app.Server().HeaderReceived = s.bodyLimits(app)
	s.routes(app)
	return app, nil
}
