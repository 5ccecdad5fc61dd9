package handlers

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/static"
)

// route is one line of the route table; who may call it is part of it.
type route struct {
	method string
	path   string
	role   canceldesk.Role // the least role allowed; public routes have none
	handle fiber.Handler
}

const public canceldesk.Role = ""

const (
	get  = fiber.MethodGet
	post = fiber.MethodPost
)

// routeTable lists every page and action: read it top to bottom.
func (s *Server) routeTable() []route {
	staff, manager, owner := canceldesk.RoleStaff, canceldesk.RoleManager, canceldesk.RoleOwner
	return []route{
		{get, "/cancel", public, s.requestForm},
		{post, "/cancel", public, s.requestSubmit},
		{get, "/cancel/sent", public, s.requestSent},
		{get, "/r/:token", public, s.requestStatus},
		{get, "/brand.css", public, s.brandStyle},
		{get, "/login", public, s.loginForm},
		{post, "/login", public, s.login},
		{get, "/invite/:token", public, s.inviteForm},
		{post, "/invite/:token", public, s.inviteAccept},
		{post, "/logout", staff, s.logout},

		{get, "/", staff, s.home},
		{get, "/orders", staff, s.ordersList},
		{get, "/orders/cancel", staff, s.bulkForm},
		{get, "/orders/cancel/preview", staff, s.bulkPreview},
		{post, "/orders/cancel", staff, s.bulkCancel},
		{get, "/orders/:id<int>", staff, s.orderShow},
		{get, "/orders/:id<int>/cancel", staff, s.cancelDialog},
		{get, "/orders/:id<int>/cancel/preview", staff, s.cancelPreview},
		{post, "/orders/:id<int>/cancel", staff, s.cancelOrder},
		{get, "/orders/:id<int>/shopify", staff, s.shopifyCallStatus},
		{post, "/orders/:id<int>/recreate", staff, s.recreateOrder},
		{get, "/orders/:id<int>/refund", staff, s.refundDialog},
		{get, "/orders/:id<int>/refund/totals", staff, s.refundTotals},
		{post, "/orders/:id<int>/refund", staff, s.refundOrder},
		{post, "/refunds/:id<int>/retry", staff, s.retryRefund},
		{get, "/orders/:id<int>/restock", staff, s.restockForm},
		{post, "/orders/:id<int>/restock", staff, s.restockOrder},
		{get, "/refunds", staff, s.refundBacklog},
		{get, "/requests", staff, s.requestQueue},
		{get, "/requests/:id<int>/decline", staff, s.declineForm},
		{post, "/requests/:id<int>/decline", staff, s.declineRequest},
		{post, "/requests/:id<int>/approve", staff, s.approveRequest},
		{get, "/inventory", staff, s.inventory},
		{get, "/inventory/movements", staff, s.skuMovements},
		{get, "/account", staff, s.accountForm},
		{post, "/account", staff, s.accountSave},
		{post, "/account/password", staff, s.accountPassword},

		{get, "/analytics", manager, s.analytics},
		{get, "/analytics/export", manager, s.exportCancellations},
		{get, "/import", manager, s.importForm},
		{post, "/import", manager, s.importUpload},
		{get, "/settings", manager, s.settingsForm},
		{post, "/settings", manager, s.settingsSave},
		{post, "/settings/auto-approval", manager, s.autoApprovalSave},
		{post, "/settings/shopify/sync", manager, s.shopifySyncNow},
		{post, "/settings/locations", manager, s.locationAdd},
		{post, "/settings/locations/:id<int>", manager, s.locationRename},
		{get, "/settings/messages", manager, s.templatesList},
		{get, "/settings/messages/:key", manager, s.templateEdit},
		{post, "/settings/messages/:key/preview", manager, s.templatePreview},
		{post, "/settings/messages/:key", manager, s.templateSave},
		{get, "/messages", manager, s.messagesList},
		{get, "/messages/:id<int>", manager, s.messageShow},
		{get, "/messages/:id<int>/html", manager, s.messageHTML},
		{post, "/messages/:id<int>/resend", manager, s.messageResend},

		{get, "/staff", owner, s.staffList},
		{post, "/staff", owner, s.staffInvite},
		{post, "/staff/:id<int>", owner, s.staffUpdate},
	}
}

// routes installs the middleware and the route table on app.
func (s *Server) routes(app *fiber.App) {
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: s.logPanic}))
	app.Use(compress.New())
	app.Use(s.securityHeaders)
	app.Use(s.readableAddress) // 400 for an address that cannot be decoded, before anything reads it
	app.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(static.FS), MaxAge: 365 * 24 * 3600}))
	app.Get("/healthz", s.healthz)
	// Shopify signs its webhooks: no session, no CSRF token, and no
	// session store asked (a delivery must not fail when Redis does).
	app.Post(webhookPath, s.shopifyWebhook)

	app.Use(s.language)
	app.Use(s.sessions) // the signed-in session, if any, and the CSRF token
	// A customer's request status and an invitation have a secret in
	// their address: no cache keeps them.
	app.Use("/r/", noStore)
	app.Use("/invite/", noStore)

	// Who may call a route is checked first, before anything reads the
	// body (an upload's is parsed for nobody else); then that its fields
	// are text, then the CSRF token of a POST.
	for _, r := range s.routeTable() {
		handlers := []fiber.Handler{s.requireText, s.checkCSRF, r.handle}
		if r.role != public {
			handlers = append([]fiber.Handler{s.require(r.role)}, handlers...)
		}
		app.Add(r.method, r.path, handlers...)
	}
	app.Use(s.notFound)
}
