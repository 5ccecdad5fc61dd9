// Package views embeds the HTML templates. Pages live in one folder per
// area; fragments that HTMX swaps on their own are files named _x.html;
// layouts/ wraps full pages.
package views

import "embed"

// FS holds every template.
//
//go:embed all:layouts all:partials all:orders all:import all:errors all:auth all:account all:staff all:refunds all:inventory all:settings all:messages all:requests all:analytics
var FS embed.FS
