package handlers

import "github.com/canceldesk/canceldesk"

// RouteInfo is a route table line as the access-matrix test sees it.
type RouteInfo struct {
	Method, Path string
	Role         canceldesk.Role
}

// RouteTable exposes the route table to tests, so a new route cannot be
// left out of the access matrix.
func RouteTable() []RouteInfo {
	var out []RouteInfo
	for _, r := range (&Server{}).routeTable() {
		out = append(out, RouteInfo{r.method, r.path, r.role})
	}
	return out
}
