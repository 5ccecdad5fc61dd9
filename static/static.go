// Package static embeds the stylesheet, the vendored htmx and the small
// scripts, so the binary serves everything and nothing comes from a CDN.
package static

import "embed"

// FS holds the static files.
//
//go:embed css js favicon.svg
var FS embed.FS
