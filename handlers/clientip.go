package handlers

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// ParseTrustedProxies reads a comma-separated list of addresses and CIDR
// ranges, e.g. "10.0.0.0/8, 192.168.1.7, fd00::/8".
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, entry := range strings.Split(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			a, aerr := netip.ParseAddr(entry)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is neither an IP address nor a CIDR range", entry)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Addr().Is4In6() {
			// Peers are compared unmapped, so such a range would match nothing.
			return nil, fmt.Errorf("%q: write IPv4 ranges as IPv4, e.g. 10.0.0.0/8", entry)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// clientIP is the address a request comes from, for per-address limits.
func (s *Server) clientIP(c *fiber.Ctx) string {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	return clientAddr(peer, c.Request().Header.PeekAll(fiber.HeaderXForwardedFor), s.TrustedProxies).String()
}

// clientAddr is the connection's peer unless the peer is a trusted proxy.
// Then X-Forwarded-For (every line, in order) is read from the right: each
// proxy appends the address it was reached from, so the right-most entry
// that is not itself a trusted proxy is the client. Entries to its left
// are whatever the client sent and are never believed. An entry that is
// not an address ends the walk at the last trusted hop.
func clientAddr(peer netip.Addr, forwardedFor [][]byte, trusted []netip.Prefix) netip.Addr {
	client := peer.Unmap()
	if !isTrusted(client, trusted) {
		return client
	}
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		entries := strings.Split(string(forwardedFor[i]), ",")
		for j := len(entries) - 1; j >= 0; j-- {
			entry := strings.TrimSpace(entries[j])
			if entry == "" {
				continue
			}
			a, ok := forwardedAddr(entry)
			if !ok {
				return client
			}
			client = a
			if !isTrusted(a, trusted) {
				return a
			}
		}
	}
	return client
}

// forwardedAddr reads one X-Forwarded-For entry: an address, with a port
// as some proxies add ("203.0.113.7:4711", "[2001:db8::1]:4711").
func forwardedAddr(entry string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(entry)
	if err != nil {
		ap, perr := netip.ParseAddrPort(entry)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.WithZone("").Unmap(), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
