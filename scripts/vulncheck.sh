#!/usr/bin/env bash
# Checks Cancel Desk's code and modules against Go's vulnerability database,
# offline: the database is built from a pinned copy of the golang.org/x/vulndb
# module (fetched from the Go module proxy like any module), so the check
# needs no access to vuln.go.dev and gives the same answer on every machine
# for the same VULNDB_VERSION. Bump VULNDB_VERSION to learn of newer
# advisories.
#
#   bash scripts/vulncheck.sh          # exits non-zero when code we call is affected
#
# govulncheck is run with the toolchain go.mod names, since it judges the
# standard library of the Go that runs it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
GOVULNCHECK_VERSION=v1.9.0

toolchain=$(awk '/^toolchain /{print $2}' go.mod)
export GOTOOLCHAIN=${toolchain:-local}

cache=${XDG_CACHE_HOME:-$HOME/.cache}/canceldesk/vulndb-$VULNDB_VERSION
if [ ! -f "$cache/index/modules.json" ]; then
	src=$(go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | awk -F'"' '/"Dir"/{print $4}')
	[ -d "$src/data/osv" ] || { echo "vulncheck: no data/osv in golang.org/x/vulndb@$VULNDB_VERSION" >&2; exit 1; }
	rm -rf "$cache.tmp" && mkdir -p "$(dirname "$cache")"
	# indexdb is the database's own tool: OSV files in, the v1 layout govulncheck reads out.
	tmpmod=$(mktemp -d)
	(cd "$tmpmod" && go mod init vulndb-index >/dev/null 2>&1 &&
		GOFLAGS=-mod=mod go run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$cache.tmp")
	rm -rf "$tmpmod"
	mv "$cache.tmp" "$cache"
fi
echo "vulncheck: $(go version | awk '{print $3}'), database golang.org/x/vulndb@$VULNDB_VERSION"
exec go run "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION" -db "file://$cache" ./...
