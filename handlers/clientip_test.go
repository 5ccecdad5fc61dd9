package handlers

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.7,fd00::/8 ,")
	if err != nil {
		t.Fatal(err)
	}
	const proxy = "10.1.2.3"
	for _, tc := range []struct {
		name, peer string
		xff        []string // header lines, in order
		want       string
	}{
		{"UntrustedPeerHeaderIgnored", "203.0.113.9", []string{"198.51.100.1"}, "203.0.113.9"},
		{"TrustedPeerNoHeader", proxy, nil, proxy},
		{"TrustedPeerOneHop", proxy, []string{"198.51.100.1"}, "198.51.100.1"},
		{"SpoofedLeftMostIgnored", proxy, []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"TrustedHopsSkipped", proxy, []string{"6.6.6.6, 198.51.100.1, 10.9.9.9, 192.168.1.7"}, "198.51.100.1"},
		{"SeveralLines", proxy, []string{"6.6.6.6, 198.51.100.1", "10.9.9.9"}, "198.51.100.1"},
		{"NoSpaces", proxy, []string{"6.6.6.6,198.51.100.1,10.9.9.9"}, "198.51.100.1"},
		{"ExtraSpacesAndEmpties", proxy, []string{"  6.6.6.6 ,, 198.51.100.1 ,  "}, "198.51.100.1"},
		{"WithPorts", proxy, []string{"6.6.6.6:1, 198.51.100.1:4711"}, "198.51.100.1"},
		{"IPv6", proxy, []string{"2001:db8::dead, 2001:db8::1"}, "2001:db8::1"},
		{"IPv6WithPortAndZone", proxy, []string{"[2001:db8::1]:4711, fd00::5%eth0"}, "2001:db8::1"},
		{"IPv6TrustedPeer", "fd00::1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv4MappedPeer", "::ffff:10.1.2.3", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"GarbageRightMostStopsAtProxy", proxy, []string{"198.51.100.1, not-an-ip"}, proxy},
		{"GarbageBehindTrustedHop", proxy, []string{"198.51.100.1, unknown, 10.9.9.9"}, "10.9.9.9"},
		{"GarbageLeftOfClientIgnored", proxy, []string{"<script>, 198.51.100.1"}, "198.51.100.1"},
		{"AllTrustedIsLeftMostTrusted", proxy, []string{"10.5.5.5, 10.9.9.9"}, "10.5.5.5"},
		{"OnlyEmpty", proxy, []string{" , "}, proxy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lines [][]byte
			for _, l := range tc.xff {
				lines = append(lines, []byte(l))
			}
			got := clientAddr(netip.MustParseAddr(tc.peer), lines, trusted)
			if got.String() != tc.want {
				t.Errorf("clientAddr(%s, %q) = %s, want %s", tc.peer, tc.xff, got, tc.want)
			}
		})
	}
	if got := clientAddr(netip.MustParseAddr(proxy), [][]byte{[]byte("198.51.100.1")}, nil); got.String() != proxy {
		t.Errorf("no trusted proxies: the header is believed (%s)", got)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8,192.168.1.7 , 2001:db8::/32, ::ffff:172.16.0.1, 10.1.2.3/16")
	if err != nil {
		t.Fatal(err)
	}
	want := "[10.0.0.0/8 192.168.1.7/32 2001:db8::/32 172.16.0.1/32 10.1.0.0/16]"
	if fmt.Sprint(got) != want {
		t.Errorf("ParseTrustedProxies = %v, want %s", got, want)
	}
	if got, err := ParseTrustedProxies(""); err != nil || len(got) != 0 {
		t.Errorf("empty list: %v, %v", got, err)
	}
	for _, bad := range []string{"10.0.0.300", "10.0.0.0/33", "proxy.internal", "10.0.0.1-10.0.0.9", "fe80::1%eth0", "::ffff:10.0.0.0/104"} {
		if _, err := ParseTrustedProxies("10.0.0.1, " + bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: err = %v, want one naming it", bad, err)
		}
	}
}
