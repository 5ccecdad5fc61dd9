package handlers

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/canceldesk/canceldesk/static"
)

// routes is the route table: read it top to bottom.
func (s *Server) routes(app *fiber.App) {
	app.Use(recover.New())
	app.Use(s.securityHeaders)
	app.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(static.FS), MaxAge: 365 * 24 * 3600}))
	app.Get("/healthz", s.healthz)

	app.Use(s.language)
	app.Use(s.csrf())

	app.Get("/", s.home)
	app.Get("/orders", s.ordersList)
	app.Get("/orders/:id<int>", s.orderShow)
	app.Get("/import", s.importForm)
	app.Post("/import", s.importUpload)

	app.Use(s.notFound)
}
