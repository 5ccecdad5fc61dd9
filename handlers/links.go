package handlers

import "strings"

// defaultPublicURL is the base of absolute links when Config.PublicURL is
// empty (tests and tools that send no mail).
const defaultPublicURL = "http://localhost"

// statusPath is where a customer's request status link points, before its token.
const statusPath = "/r/"

// publicLink is an absolute link to path on the dashboard. It is built on
// the configured public URL only: the Host and X-Forwarded-Host headers are
// chosen by whoever sends the request, and a link built on them would send
// a customer's token to another site.
func (s *Server) publicLink(path string) string {
	base := strings.TrimRight(s.PublicURL, "/")
	if base == "" {
		base = defaultPublicURL
	}
	return base + path
}
