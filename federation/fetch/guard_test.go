package fetch

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestGuardCheck(t *testing.T) {
	tests := []struct {
		ip     string
		allow  bool
		reason string // substring of the reason when refused
	}{
		// Public addresses.
		{"1.1.1.1", true, ""},
		{"8.8.8.8", true, ""},
		{"93.184.215.14", true, ""},
		{"2606:4700:4700::1111", true, ""},
		{"2a01:4f8::1", true, ""},
		{"::ffff:1.1.1.1", true, ""},
		{"64:ff9b::808:808", true, ""},          // NAT64 of 8.8.8.8
		{"2002:808:808::1", true, ""},           // 6to4 of 8.8.8.8
		{"2001:0:808:808::f7f7:f7f7", true, ""}, // Teredo, server and client 8.8.8.8
		{"fe80::1%eth0", false, "link-local"},
		// IPv4 refusals.
		{"0.0.0.0", false, "this network"},
		{"0.1.2.3", false, "this network"},
		{"10.0.0.1", false, "RFC 1918"},
		{"172.16.0.1", false, "RFC 1918"},
		{"172.31.255.255", false, "RFC 1918"},
		{"172.32.0.1", true, ""},
		{"192.168.1.1", false, "RFC 1918"},
		{"100.64.0.1", false, "CGNAT"},
		{"100.127.255.255", false, "CGNAT"},
		{"100.128.0.1", true, ""},
		{"127.0.0.1", false, "loopback"},
		{"127.255.255.254", false, "loopback"},
		{"169.254.169.254", false, "metadata"},
		{"169.254.0.1", false, "link-local"},
		{"192.0.0.170", false, "IETF protocol"},
		{"192.0.2.1", false, "documentation"},
		{"198.51.100.7", false, "documentation"},
		{"203.0.113.9", false, "documentation"},
		{"192.88.99.1", false, "6to4 relay"},
		{"198.18.0.1", false, "benchmarking"},
		{"198.19.255.255", false, "benchmarking"},
		{"224.0.0.1", false, "multicast"},
		{"239.255.255.250", false, "multicast"},
		{"240.0.0.1", false, "reserved"},
		{"255.255.255.255", false, "broadcast"},
		// IPv6 refusals.
		{"::", false, "unspecified"},
		{"::1", false, "loopback"},
		{"::7f00:1", false, "IPv4-compatible"},
		{"fc00::1", false, "unique local"},
		{"fd12:3456:789a::1", false, "unique local"},
		{"fe80::1", false, "link-local"},
		{"fec0::1", false, "site-local"},
		{"ff02::1", false, "multicast"},
		{"100::1", false, "discard"},
		{"2001:db8::1", false, "documentation"},
		{"3fff::1", false, "documentation"},
		{"2001:2::1", false, "benchmarking"},
		{"2001:10::1", false, "ORCHID"},
		{"5f00::1", false, "SRv6"},
		{"4000::1", false, "outside 2000::/3"},
		{"::ffff:0:7f00:1", false, "outside 2000::/3"}, // IPv4-translated (SIIT)
		// IPv6 forms embedding refused IPv4 addresses.
		{"::ffff:127.0.0.1", false, "IPv4-mapped loopback"},
		{"::ffff:10.1.2.3", false, "IPv4-mapped private"},
		{"::ffff:169.254.169.254", false, "IPv4-mapped link-local"},
		{"::ffff:0.0.0.0", false, "IPv4-mapped unspecified"},
		{"64:ff9b::7f00:1", false, "NAT64-embedded loopback"},
		{"64:ff9b::a9fe:a9fe", false, "NAT64-embedded link-local"},
		{"64:ff9b:1::a00:1", false, "local-use NAT64"},
		{"2002:7f00:1::1", false, "6to4-embedded loopback"},
		{"2002:c0a8:101::1", false, "6to4-embedded private"},
		{"2001:0:808:808::f5ff:fffe", false, "Teredo client private"}, // client ^f5fffffe = 10.0.0.1
		{"2001:0:a00:1::f7f7:f7f7", false, "Teredo server private"},
	}
	var g Guard
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			err := g.Check(netip.MustParseAddr(tt.ip))
			if tt.allow {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want allowed", tt.ip, err)
				}
				return
			}
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("Check(%s) = %v, want ErrForbiddenAddress", tt.ip, err)
			}
			var fe *ForbiddenAddressError
			if !errors.As(err, &fe) || !strings.Contains(fe.Reason, tt.reason) {
				t.Fatalf("Check(%s) = %v, want reason containing %q", tt.ip, err, tt.reason)
			}
		})
	}
}

func TestGuardAllowList(t *testing.T) {
	allow, err := ParseAllowList("127.0.0.0/8, ::1/128 10.1.0.0/16,\t192.168.5.5")
	if err != nil {
		t.Fatal(err)
	}
	g := &Guard{Allow: allow}
	tests := []struct {
		ip    string
		allow bool
	}{
		{"127.0.0.1", true},
		{"127.0.0.2", true},
		{"::ffff:127.0.0.1", true}, // the mapped form of an allowed address
		{"::1", true},
		{"10.1.200.3", true},
		{"10.2.0.1", false},
		{"192.168.5.5", true},
		{"192.168.5.6", false},
		{"169.254.169.254", false},
		{"fd00::1", false},
		{"8.8.8.8", true},
	}
	for _, tt := range tests {
		err := g.Check(netip.MustParseAddr(tt.ip))
		if (err == nil) != tt.allow {
			t.Errorf("Check(%s) = %v, want allowed=%v", tt.ip, err, tt.allow)
		}
	}
	// A nil *Guard behaves as the zero Guard.
	var nilGuard *Guard
	if err := nilGuard.Check(netip.MustParseAddr("127.0.0.1")); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("nil guard allowed loopback: %v", err)
	}
}

func TestParseAllowList(t *testing.T) {
	tests := []struct {
		in, want string // want "" with wantErr
		wantErr  bool
	}{
		{"", "", false},
		{"127.0.0.0/8,::1/128", "127.0.0.0/8,::1/128", false},
		{" 10.1.2.3/8 , fd00::/8 ", "10.0.0.0/8,fd00::/8", false},
		{"192.0.2.1", "192.0.2.1/32", false},
		{"::1", "::1/128", false},
		{"127.0.0.0/33", "", true},
		{"localhost", "", true},
		{"fe80::1%eth0", "", true},
		{"10.0.0.0/8,,bogus", "", true},
	}
	for _, tt := range tests {
		got, err := ParseAllowList(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseAllowList(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && got.String() != tt.want {
			t.Errorf("ParseAllowList(%q) = %q, want %q", tt.in, got.String(), tt.want)
		}
	}
	// flag.Value: Set appends.
	var a AllowList
	if err := a.Set("127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if err := a.Set("::1"); err != nil {
		t.Fatal(err)
	}
	if a.String() != "127.0.0.1/32,::1/128" {
		t.Errorf("after two Sets: %q", a.String())
	}
}

func TestGuardControl(t *testing.T) {
	g := &Guard{}
	if err := g.Control(context.Background(), "tcp4", "127.0.0.1:80", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("loopback: %v", err)
	}
	if err := g.Control(context.Background(), "tcp6", "[fe80::1%lo]:80", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("zoned link-local: %v", err)
	}
	if err := g.Control(context.Background(), "tcp4", "1.1.1.1:443", nil); err != nil {
		t.Errorf("public: %v", err)
	}
	if err := g.Control(context.Background(), "tcp", "not-an-address", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("unparsable address must be refused: %v", err)
	}
}
