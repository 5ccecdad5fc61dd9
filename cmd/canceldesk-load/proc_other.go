//go:build !linux

package main

import "syscall"

// procAttr: elsewhere the server shares the terminal's process group.
// The load test reads /proc for memory, so Linux is where it is meant to run.
func procAttr() *syscall.SysProcAttr { return nil }
