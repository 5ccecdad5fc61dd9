#!/usr/bin/env bash
# Runs every test of Cancel Desk: the one command for developers and CI.
#
#   bash scripts/test.sh                 # vet + every test + a short run of every fuzz target
#   bash scripts/test.sh -run TestOrders # extra arguments go to `go test`
#   CANCELDESK_TEST_PACKAGES=./store/... bash scripts/test.sh -v
#   CANCELDESK_FUZZTIME=10m bash scripts/test.sh   # fuzz longer on demand (per target)
#   CANCELDESK_FUZZTIME=0 bash scripts/test.sh     # no fuzzing
#
# On a fresh Debian 12 machine (as root, or with sudo) it installs what is
# missing (Redis, PostgreSQL with pg_trgm, Chromium, fonts with CJK glyphs)
# from Debian's packages and stripe-mock from the Go module proxy, starts
# Redis, PostgreSQL and stripe-mock on loopback when they do not answer,
# prepares the `test` database, exports the variables that internal/testenv
# reads, then runs `go vet`, govulncheck against a pinned offline copy of
# Go's vulnerability database (scripts/vulncheck.sh, whole runs only) and
# `go test`, with the toolchain go.mod names. When everything is
# already there it only checks and runs the tests.
#
# Then it fuzzes: every fuzz target (a `func FuzzX` in a _test.go file of
# the packages tested) runs on its own for CANCELDESK_FUZZTIME (default 5s,
# any `go test -fuzztime` value; longer on demand), since `go test -fuzz`
# takes one target at a time. A failure fails the script like a test does;
# the input is written to the package's testdata/fuzz/FuzzX/, where plain
# `go test` replays it from then on. The first run builds the packages
# again with coverage instrumentation (cached after that).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PG_URL="postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
PG_ADMIN_URL="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
REDIS_URL_TEST="redis://127.0.0.1:6379/15"
WAIT_SECONDS=60

section() { printf '\n=== %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
	printf '\nscripts/test.sh: FAILED: %s\n' "$*" >&2
	exit 1
}

if [ "$(id -u)" -eq 0 ]; then
	SUDO=()
elif command -v sudo >/dev/null 2>&1; then
	SUDO=(sudo)
else
	SUDO=()
fi
as_root() { "${SUDO[@]}" "$@"; }
as_postgres() {
	if [ "$(id -un)" = postgres ]; then "$@"; else as_root runuser -u postgres -- "$@"; fi
}

started=$SECONDS

# ---------------------------------------------------------------------------
section "Toolchain"
command -v go >/dev/null 2>&1 || die "go is not on PATH; this project needs Go $(awk '/^go /{print $2}' go.mod) or newer"
# The toolchain go.mod names carries the standard library's security fixes;
# the go command fetches it from the Go module proxy once. Exported, so a Go
# set to GOTOOLCHAIN=local uses it too, and the binaries the tests build.
toolchain=$(awk '/^toolchain /{print $2}' go.mod)
if [ -n "$toolchain" ]; then
	export GOTOOLCHAIN=$toolchain
fi
note "$(go version) (GOTOOLCHAIN=${GOTOOLCHAIN:-default})"

# ---------------------------------------------------------------------------
section "System packages"
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
{ command -v pg_isready >/dev/null 2>&1 && command -v psql >/dev/null 2>&1; } || missing+=(postgresql-client)
{ command -v pg_ctlcluster >/dev/null 2>&1 && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; } || missing+=(postgresql)
compgen -G '/usr/share/postgresql/*/extension/pg_trgm.control' >/dev/null || missing+=(postgresql-contrib)
if [ -n "${CANCELDESK_CHROMIUM:-}" ] && [ -x "${CANCELDESK_CHROMIUM}" ]; then
	: # a browser of the caller's choosing
elif ! command -v chromium >/dev/null 2>&1; then
	missing+=(chromium)
fi
installed fonts-noto-cjk || missing+=(fonts-noto-cjk)     # Chinese (zh-TW) pages
installed fonts-liberation || missing+=(fonts-liberation) # Latin text in screenshots

if [ ${#missing[@]} -eq 0 ]; then
	note "all present"
else
	command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and there is no apt-get to install them"
	note "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Another apt may be running (e.g. a provisioning step): wait for its lock.
	apt_opts=(-q -o DPkg::Lock::Timeout=900 -o Acquire::Retries=3)
	as_root apt-get "${apt_opts[@]}" update ||
		die "apt-get update failed"
	as_root apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" ||
		die "apt-get install ${missing[*]} failed"
fi

# ---------------------------------------------------------------------------
section "Redis"
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if redis_up; then
	note "answering on 127.0.0.1:6379"
else
	note "not answering: starting redis-server on loopback"
	as_root install -d /var/lib/redis /var/log/redis
	as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 \
		--save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log ||
		die "redis-server did not start (see /var/log/redis/ci.log)"
	for ((i = 0; i < WAIT_SECONDS * 4; i++)); do
		redis_up && break
		sleep 0.25
	done
	redis_up || {
		tail -n 20 /var/log/redis/ci.log >&2 || true
		die "Redis does not answer on 127.0.0.1:6379 after ${WAIT_SECONDS}s"
	}
	note "started"
fi

# ---------------------------------------------------------------------------
section "PostgreSQL"
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 -t 2 >/dev/null 2>&1; }
if pg_up; then
	note "answering on 127.0.0.1:5432"
else
	note "not answering: starting the cluster"
	version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
	[ -n "$version" ] || die "no PostgreSQL server under /usr/lib/postgresql"
	if [ ! -d "/etc/postgresql/$version/main" ]; then
		note "creating cluster $version/main"
		as_root pg_createcluster --port 5432 "$version" main ||
			die "pg_createcluster $version main failed"
	fi
	as_root install -d -o postgres -g postgres -m 2775 /var/run/postgresql
	as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
		pg_up || # it may have been starting already
		die "pg_ctlcluster $version main start failed (see /var/log/postgresql/postgresql-$version-main.log)"
	for ((i = 0; i < WAIT_SECONDS * 4; i++)); do
		pg_up && break
		sleep 0.25
	done
	pg_up || {
		tail -n 20 "/var/log/postgresql/postgresql-$version-main.log" >&2 || true
		die "PostgreSQL does not answer on 127.0.0.1:5432 after ${WAIT_SECONDS}s"
	}
	note "started"
fi

pg_admin() { PGCONNECT_TIMEOUT=5 psql "$PG_ADMIN_URL" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
if ! pg_admin -c 'SELECT 1' >/dev/null 2>&1; then
	# A fresh Debian cluster asks for a password over TCP. The tests connect
	# as postgres without one, so trust loopback (this is a test machine).
	note "postgres@127.0.0.1 needs a password: adding trust for loopback to pg_hba.conf"
	hba=$(as_postgres psql -X -At -c 'SHOW hba_file') || die "cannot reach PostgreSQL over its local socket as user postgres to fix authentication"
	as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
	as_postgres psql -X -q -At -c 'SELECT pg_reload_conf()' >/dev/null
	sleep 0.5
	pg_admin -c 'SELECT 1' >/dev/null || die "still cannot connect as $PG_ADMIN_URL"
fi
if [ "$(pg_admin -c "SELECT count(*) FROM pg_database WHERE datname = 'test'")" = 0 ]; then
	note "creating database test"
	pg_admin -c 'CREATE DATABASE test' || die "CREATE DATABASE test failed"
fi
PGOPTIONS='-c client_min_messages=warning' PGCONNECT_TIMEOUT=5 psql "$PG_URL" -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public' ||
	die "CREATE EXTENSION pg_trgm failed in database test (Debian: postgresql-contrib)"
note "database test ready ($(pg_admin -c 'SHOW server_version'))"

# ---------------------------------------------------------------------------
# stripe-mock is Stripe's stateless fake of its API, for the payments tests.
# It is a Go program: installed with `go install` from the Go module proxy.
section "stripe-mock"
STRIPE_MOCK_ADDR=127.0.0.1:12111
STRIPE_MOCK_HTTPS_ADDR=127.0.0.1:12112 # otherwise it also serves HTTPS on every interface
STRIPE_MOCK_VERSION=v0.203.0
STRIPE_MOCK_LOG=/tmp/canceldesk-stripe-mock.log
# Answers when GET /v1/charges with a test key returns 200 (plain bash: no curl needed).
stripe_mock_up() {
	local status
	# shellcheck disable=SC2016 # $1 is expanded by the inner bash
	status=$(timeout 5 bash -c '
		exec 3<>"/dev/tcp/${1%:*}/${1##*:}" || exit 1
		printf "GET /v1/charges HTTP/1.0\r\nHost: %s\r\nAuthorization: Bearer sk_test_123\r\n\r\n" "$1" >&3
		head -n 1 <&3' _ "$STRIPE_MOCK_ADDR" 2>/dev/null) || return 1
	[[ $status == HTTP/1.?" 200"* ]]
}
if stripe_mock_up; then
	note "answering on $STRIPE_MOCK_ADDR"
else
	gobin=$(go env GOBIN)
	[ -n "$gobin" ] || gobin="$(go env GOPATH | cut -d: -f1)/bin"
	if command -v stripe-mock >/dev/null 2>&1; then
		stripe_mock=$(command -v stripe-mock)
	elif [ -x "$gobin/stripe-mock" ]; then
		stripe_mock="$gobin/stripe-mock"
	else
		note "installing github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION"
		GOFLAGS=-mod=mod go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" ||
			die "go install github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION failed"
		stripe_mock="$gobin/stripe-mock"
		[ -x "$stripe_mock" ] || die "go install did not put stripe-mock in $gobin"
	fi
	note "not answering: starting $stripe_mock ($(go version -m "$stripe_mock" 2>/dev/null | awk '$1 == "mod" { print $3 }')) on loopback, log $STRIPE_MOCK_LOG"
	setsid nohup "$stripe_mock" -http-addr "$STRIPE_MOCK_ADDR" -https-addr "$STRIPE_MOCK_HTTPS_ADDR" \
		</dev/null >"$STRIPE_MOCK_LOG" 2>&1 &
	stripe_mock_pid=$!
	for ((i = 0; i < WAIT_SECONDS * 4; i++)); do
		stripe_mock_up && break
		kill -0 "$stripe_mock_pid" 2>/dev/null || break # it exited: no point waiting
		sleep 0.25
	done
	if ! stripe_mock_up; then
		tail -n 20 "$STRIPE_MOCK_LOG" >&2 || true
		if kill -0 "$stripe_mock_pid" 2>/dev/null; then
			die "stripe-mock does not answer on $STRIPE_MOCK_ADDR after ${WAIT_SECONDS}s (see $STRIPE_MOCK_LOG)"
		fi
		die "stripe-mock exited without answering on $STRIPE_MOCK_ADDR; is the port taken? (see $STRIPE_MOCK_LOG)"
	fi
	note "started (pid $stripe_mock_pid)"
fi

# ---------------------------------------------------------------------------
section "Test environment"
if [ -z "${CANCELDESK_CHROMIUM:-}" ] || [ ! -x "${CANCELDESK_CHROMIUM}" ]; then
	CANCELDESK_CHROMIUM=$(command -v chromium) || die "chromium is not on PATH"
fi
export CANCELDESK_TEST_POSTGRES="$PG_URL"
export CANCELDESK_TEST_REDIS="$REDIS_URL_TEST"
export CANCELDESK_CHROMIUM
export CANCELDESK_TEST_STRIPE="http://$STRIPE_MOCK_ADDR"
note "CANCELDESK_TEST_POSTGRES=$CANCELDESK_TEST_POSTGRES"
note "CANCELDESK_TEST_REDIS=$CANCELDESK_TEST_REDIS"
note "CANCELDESK_TEST_STRIPE=$CANCELDESK_TEST_STRIPE"
note "CANCELDESK_CHROMIUM=$CANCELDESK_CHROMIUM"
note "screenshots: ${CANCELDESK_SCREENSHOTS:-testdata/screenshots/}"
note "setup took $((SECONDS - started))s"

packages=${CANCELDESK_TEST_PACKAGES:-./...}

# ---------------------------------------------------------------------------
# vet and test both run even when vet fails, so one run reports everything.
section "go vet $packages"
t=$SECONDS
vet_rc=0
# shellcheck disable=SC2086 # a list of package patterns
go vet $packages || vet_rc=$?
note "vet took $((SECONDS - t))s"

# ---------------------------------------------------------------------------
# Whole runs only: a run of a few packages is a developer's quick check.
vuln_rc=0
if [ "$packages" = ./... ]; then
	section "govulncheck (offline, scripts/vulncheck.sh)"
	t=$SECONDS
	bash scripts/vulncheck.sh || vuln_rc=$?
	note "vulncheck took $((SECONDS - t))s"
fi

# ---------------------------------------------------------------------------
section "go test $packages"
t=$SECONDS
test_rc=0
# shellcheck disable=SC2086
go test -count=1 -timeout 20m "$@" $packages || test_rc=$?
note "tests took $((SECONDS - t))s"

# ---------------------------------------------------------------------------
# One `go test -fuzz` per target: the fuzzer takes one at a time. Seed
# inputs already ran above as ordinary tests. Minimizing new inputs is off
# by default (CANCELDESK_FUZZMINIMIZETIME): on the slower targets (the
# handlers through the app) it would take most of a short run.
FUZZTIME=${CANCELDESK_FUZZTIME:-5s}
fuzz_rc=0
fuzz_failed=()
fuzz_count=0
if [ "$FUZZTIME" = 0 ] || [ "$FUZZTIME" = 0s ]; then
	section "go test -fuzz: skipped (CANCELDESK_FUZZTIME=$FUZZTIME)"
else
	section "go test -fuzz: every target for $FUZZTIME"
	t=$SECONDS
	fuzz_log=$(mktemp)
	# shellcheck disable=SC2086
	tested_dirs=$(go list -f "{{.Dir}}" $packages) || true
	while read -r file target; do
		dir=$(cd "$(dirname "$file")" && pwd)
		grep -qxF "$dir" <<<"$tested_dirs" || continue
		fuzz_count=$((fuzz_count + 1))
		tt=$SECONDS
		pkg="./$(dirname "${file#./}")"
		corpus="$(dirname "$file")/testdata/fuzz/$target"
		# Go 1.26's fuzz coordinator can fail a target with a bare "context
		# deadline exceeded" as -fuzztime ends (go.dev/issue/75804): no
		# failing input is written then. Such a run is tried once more; a
		# run that writes a failing input fails at once.
		rc=1
		for try in 1 2; do
			before=$(find "$corpus" -type f 2>/dev/null | sort) || true
			if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" \
				-fuzzminimizetime "${CANCELDESK_FUZZMINIMIZETIME:-0}" "$pkg" >"$fuzz_log" 2>&1; then
				rc=0
				break
			fi
			after=$(find "$corpus" -type f 2>/dev/null | sort) || true
			if [ "$before" != "$after" ] || ! grep -q 'context deadline exceeded' "$fuzz_log" || [ "$try" = 2 ]; then
				break
			fi
			note "$target (${pkg#./}): the fuzzer's own deadline race (no failing input written): once more"
		done
		if [ "$rc" = 0 ]; then
			note "$target (${pkg#./}): ok, $((SECONDS - tt))s, $(grep -Eo 'execs: [0-9]+' "$fuzz_log" | tail -n 1)"
		else
			note "$target (${pkg#./}): FAILED"
			sed 's/^/        /' "$fuzz_log" | grep -v '^        fuzz: elapsed' >&2
			fuzz_failed+=("$target")
			fuzz_rc=1
		fi
	done < <(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(' . | sed -E 's/:func (Fuzz[A-Za-z0-9_]+)\($/ \1/' | sort)
	rm -f "$fuzz_log"
	note "fuzzing took $((SECONDS - t))s"
fi

section "Summary"
[ "$vet_rc" -eq 0 ] && note "go vet: ok" || note "go vet: FAILED (exit $vet_rc)"
[ "$vuln_rc" -eq 0 ] && note "govulncheck: ok" || note "govulncheck: FAILED (exit $vuln_rc)"
[ "$test_rc" -eq 0 ] && note "go test: ok" || note "go test: FAILED (exit $test_rc)"
if [ "$FUZZTIME" = 0 ] || [ "$FUZZTIME" = 0s ]; then
	note "go test -fuzz: skipped"
elif [ "$fuzz_rc" -eq 0 ]; then
	note "go test -fuzz: ok ($fuzz_count targets, $FUZZTIME each)"
else
	note "go test -fuzz: FAILED (${fuzz_failed[*]})"
fi
note "total $((SECONDS - started))s"
if [ "$vet_rc" -ne 0 ] || [ "$vuln_rc" -ne 0 ] || [ "$test_rc" -ne 0 ] || [ "$fuzz_rc" -ne 0 ]; then
	die "see the output above"
fi
