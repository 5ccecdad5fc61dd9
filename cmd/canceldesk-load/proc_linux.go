package main

import "syscall"

// procAttr puts the server in a process group of its own, so Ctrl-C in the
// terminal reaches this command, which stops the server in order (SIGTERM,
// then wait); and has the kernel send it SIGTERM should this command die
// without doing so.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
