package main

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// resolvePublicURL checks the --public-url setting and returns it without
// a trailing slash. Links in customers' emails and staff invitations are
// built on it, so it is required whenever others can reach the listener;
// on a loopback address (or in demo mode) it defaults to the listen address.
func resolvePublicURL(raw, addr string, demo bool) (string, error) {
	if raw == "" {
		if demo || isLoopback(addr) {
			return "http://" + linkHost(addr), nil
		}
		return "", fmt.Errorf("--public-url (env PUBLIC_URL) is required when listening on %s: "+
			"set it to the address customers and staff reach, e.g. https://desk.example.com "+
			"(links in emails and invitations are built on it, never on a request's Host header)", addr)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil ||
		strings.ContainsAny(raw, "?#") {
		return "", fmt.Errorf("--public-url (env PUBLIC_URL) %q is not an absolute http(s) URL without a query or fragment, e.g. https://desk.example.com", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// isLoopback reports whether a listen address (host:port) takes
// connections from this machine only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// linkHost is the host:port of links to a listen address: an address that
// names no host (":8080", "0.0.0.0:8080") is reached as localhost.
func linkHost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
