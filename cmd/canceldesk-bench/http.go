package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
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
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
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

// measurePages is where the full-page HTTP measurements go.
//
// TODO(handlers): the app's real handlers are being written now; once
// handlers.New is stable, build it here on b.db (handlers.Config{Store:
// b.db, I18n: …, Location: time.UTC}), serve it with serveFiber and measure,
// with newClient and get, over the same terms and ids as the store rows:
//
//	GET /orders                       floor: the "orders list" store row
//	GET /orders?q=<b.emails[i]>       floor: the "search: email" store row
//	GET /orders?q=<b.skus[i]>         floor: the "search: SKU" store row
//	GET /orders/{b.ids[i]}            floor: the "order detail" store row
//
// (signing in first if those routes need a session), so the ratio is what
// rendering and the HTTP layer add to the data. Until then it measures
// nothing; the benchmark deliberately does not import the handlers package.
func (b *bench) measurePages(ctx context.Context) ([]row, error) {
	return nil, nil
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
