package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/i18n"
)

// measureHTTPFloor measures what any page costs before the app does
// anything: an empty Fiber v2 handler over real loopback HTTP with a
// keep-alive net/http client, beside an empty net/http handler served the
// same way (the floor, so the ratio is Fiber's own cost), and the same
// Fiber handler through app.Test (in-memory, no TCP).
func (b *bench) measureHTTPFloor(ctx context.Context) ([]row, error) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusOK) })
	fiberURL, stopFiber, err := serveFiber(app)
	if err != nil {
		return nil, err
	}
	defer stopFiber()

	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go srv.Serve(ln)
	defer srv.Close()
	stdURL := "http://" + ln.Addr().String() + "/"

	client := newClient()
	defer client.CloseIdleConnections()
	r, err := b.pair(ctx, "HTTP: empty Fiber handler, loopback, keep-alive",
		"GET / answering 200 with no body, net/http client with keep-alive; floor: an empty net/http handler served and fetched the same way",
		func(ctx context.Context, i int) error { return get(ctx, client, fiberURL) },
		func(ctx context.Context, i int) error { return get(ctx, client, stdURL) })
	if err != nil {
		return nil, err
	}
	inMem, err := b.measure(ctx, "HTTP: empty Fiber handler, app.Test", func(ctx context.Context, i int) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://bench.local/", nil)
		resp, err := app.Test(req, -1)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return []row{r, {name: "HTTP: empty Fiber handler, app.Test (in memory)", got: inMem,
		note: "app.Test builds a request and an in-memory connection per call; shown for comparison with handler tests"}}, nil
}

// measurePages measures whole pages over loopback HTTP from a signed-in
// session, each beside its floor: the store call that page makes, so the
// ratio is what the handler, the session check and rendering add.
func (b *bench) measurePages(ctx context.Context) ([]row, error) {
	base, client, stop, err := b.startApp(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()
	type page struct {
		name, note string
		url        func(i int) string
		floor      func(ctx context.Context, i int) error
	}
	list := func(f canceldesk.OrderFilter) error { _, err := b.db.ListOrders(ctx, f); return err }
	pages := []page{
		{"page: GET /orders", "the orders page, signed in; floor: ListOrders with no filter",
			func(int) string { return base + "orders" },
			func(ctx context.Context, i int) error { return list(canceldesk.OrderFilter{}) }},
		{"page: GET /orders?q=<email>", "search by email substring; floor: the same ListOrders",
			func(i int) string { return base + "orders?q=" + url.QueryEscape(b.emails[i%len(b.emails)]) },
			func(ctx context.Context, i int) error {
				return list(canceldesk.OrderFilter{Query: b.emails[i%len(b.emails)]})
			}},
		{"page: GET /orders?q=<SKU>", "search by SKU; floor: the same ListOrders",
			func(i int) string { return base + "orders?q=" + url.QueryEscape(b.skus[i%len(b.skus)]) },
			func(ctx context.Context, i int) error {
				return list(canceldesk.OrderFilter{Query: b.skus[i%len(b.skus)]})
			}},
		{"page: GET /orders/{id}", "the order page; floor: Order + Events",
			func(i int) string { return base + "orders/" + strconv.FormatInt(b.ids[i%len(b.ids)], 10) },
			func(ctx context.Context, i int) error {
				id := b.ids[i%len(b.ids)]
				if _, err := b.db.Order(ctx, id); err != nil {
					return err
				}
				_, err := b.db.Events(ctx, id)
				return err
			}},
		{"page: GET /analytics?range=365", "the 365-day chart with its figures and the previous period, by day; " +
			"floor: the daily rollups of the 730 days it reads (StatsDays)",
			func(int) string { return base + "analytics?range=365&group=day&basis=placed" },
			func(ctx context.Context, i int) error {
				to := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
				_, err := b.db.StatsDays(ctx, to.AddDate(0, 0, -730), to, time.UTC)
				return err
			}},
	}
	var rows []row
	for _, p := range pages {
		r, err := b.pair(ctx, p.name, p.note,
			func(ctx context.Context, i int) error { return get(ctx, client, p.url(i)) }, p.floor)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.name, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// benchEmail is the account the pages are fetched as, and the actor of the
// cancels the benchmark makes.
const benchEmail, benchPassword = "bench.manager@example.com", "bench-password-1234"

// startApp serves the whole app on a loopback port and signs a client in
// as the bench account (created when missing). stop shuts both down.
func (b *bench) startApp(ctx context.Context) (string, *http.Client, func(), error) {
	hash, err := canceldesk.HashPassword(benchPassword)
	if err != nil {
		return "", nil, nil, err
	}
	err = b.db.CreateAccount(ctx, &canceldesk.Account{Name: "Bench", Email: benchEmail, Role: canceldesk.RoleManager, PasswordHash: hash})
	if err != nil && canceldesk.ErrorCode(err) != canceldesk.ECONFLICT {
		return "", nil, nil, err
	}
	bundle, err := i18n.New()
	if err != nil {
		return "", nil, nil, err
	}
	// The pages are in UTC: the daily analytics rollups too (built once).
	if err := b.db.SetStatsZone(ctx, time.UTC); err != nil {
		return "", nil, nil, err
	}
	// The after-commit hook as serve wires it, so the kept counts are
	// forgotten by the cancels as in production.
	afterCommit := new(canceldesk.AfterCommit)
	b.db.OnCommit(afterCommit.Run)
	app, err := handlers.New(handlers.Config{Store: b.db, Accounts: b.db, Refunds: b.db, Messages: b.db, Requests: b.db, Stats: b.db, Export: b.db, Analytics: b.db, I18n: bundle, Location: time.UTC,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AfterCommit: afterCommit})
	if err != nil {
		return "", nil, nil, err
	}
	base, stopApp, err := serveFiber(app)
	if err != nil {
		return "", nil, nil, err
	}
	client := newClient()
	stop := func() { client.CloseIdleConnections(); stopApp() }
	if client.Jar, err = cookiejar.New(nil); err != nil {
		stop()
		return "", nil, nil, err
	}
	if err := signIn(ctx, client, base, benchEmail, benchPassword); err != nil {
		stop()
		return "", nil, nil, err
	}
	return base, client, stop, nil
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

// signIn signs the client in through the login form, as a browser would.
func signIn(ctx context.Context, client *http.Client, base, email, password string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"login", nil)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfMeta.FindSubmatch(body)
	if m == nil {
		return errors.New("sign-in page without a CSRF token")
	}
	form := url.Values{"_csrf": {string(m[1])}, "email": {email}, "password": {password}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/orders" {
		return fmt.Errorf("sign-in ended at %s with %s", resp.Request.URL.Path, resp.Status)
	}
	return nil
}

// serveFiber serves app on a loopback port and returns its base URL.
func serveFiber(app *fiber.App) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go app.Listener(ln)
	return "http://" + ln.Addr().String() + "/", func() { _ = app.ShutdownWithTimeout(5 * time.Second) }, nil
}

func newClient() *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true, IdleConnTimeout: time.Minute},
	}
}

// get fetches url, reads the body whole (so the connection is reused) and
// wants a 200.
func get(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}
