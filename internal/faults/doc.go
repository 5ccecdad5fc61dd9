// Package faults holds fault tests of the canceldesk binary: each test
// builds it once, runs it as a subprocess on loopback and breaks what it
// depends on for real — a private redis-server stopped and killed, a
// private PostgreSQL restarted, the process itself killed with SIGKILL or
// stopped with SIGTERM — then judges what the dashboard answered and what
// the database holds. The tests are in the _test.go files; there is no
// library code here.
package faults
