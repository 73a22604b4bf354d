package webfinger

import (
	"errors"
	"testing"
)

func TestParseResource(t *testing.T) {
	tests := []struct {
		in   string
		want Resource
		acct string // Acct(), when it differs from the input's canonical form
	}{
		{"acct:alice@example.org", Resource{User: "alice", Host: "example.org"}, "acct:alice@example.org"},
		{"ACCT:alice@Example.ORG", Resource{User: "alice", Host: "example.org"}, "acct:alice@example.org"},
		{"acct:alice@127.0.0.1:8080", Resource{User: "alice", Host: "127.0.0.1:8080"}, "acct:alice@127.0.0.1:8080"},
		{"acct:alice@localhost:3000", Resource{User: "alice", Host: "localhost:3000"}, "acct:alice@localhost:3000"},
		{"acct:alice@example.org:0443", Resource{User: "alice", Host: "example.org:443"}, "acct:alice@example.org:443"},
		{"acct:bob@[::1]:8080", Resource{User: "bob", Host: "[::1]:8080"}, "acct:bob@[::1]:8080"},
		{"acct:bob@[2001:DB8:0::1]", Resource{User: "bob", Host: "[2001:db8::1]"}, "acct:bob@[2001:db8::1]"},
		{"@Alice@social.example", Resource{User: "Alice", Host: "social.example"}, "acct:Alice@social.example"},
		{"@alice@127.0.0.1:8080", Resource{User: "alice", Host: "127.0.0.1:8080"}, "acct:alice@127.0.0.1:8080"},
		{"alice@social.example", Resource{User: "alice", Host: "social.example"}, "acct:alice@social.example"},
		{"  alice@social.example.  ", Resource{User: "alice", Host: "social.example"}, "acct:alice@social.example"},
		{"first.last-name_1@lemmy.example", Resource{User: "first.last-name_1", Host: "lemmy.example"}, "acct:first.last-name_1@lemmy.example"},
		// Percent-encoding and internationalised names.
		{"acct:J%C3%BCrgen@example.org", Resource{User: "Jürgen", Host: "example.org"}, "acct:J%C3%BCrgen@example.org"},
		{"acct:Jürgen@example.org", Resource{User: "Jürgen", Host: "example.org"}, "acct:J%C3%BCrgen@example.org"},
		{"acct:al%69ce@example.org", Resource{User: "alice", Host: "example.org"}, "acct:alice@example.org"},
		{"acct:anna@bücher.example", Resource{User: "anna", Host: "xn--bcher-kva.example"}, "acct:anna@xn--bcher-kva.example"},
		{"acct:anna@B%C3%BCcher.example", Resource{User: "anna", Host: "xn--bcher-kva.example"}, "acct:anna@xn--bcher-kva.example"},
		{"anna@ＢÜＣＨＥＲ.example:8443", Resource{User: "anna", Host: "xn--bcher-kva.example:8443"}, "acct:anna@xn--bcher-kva.example:8443"},
		{"acct:anna@xn--bcher-kva.example", Resource{User: "anna", Host: "xn--bcher-kva.example"}, "acct:anna@xn--bcher-kva.example"},
		// URLs.
		{"https://social.example/@alice", Resource{User: "alice", Host: "social.example", URL: "https://social.example/@alice"}, "acct:alice@social.example"},
		{"HTTPS://Social.Example:443/@alice/", Resource{User: "alice", Host: "social.example", URL: "https://social.example/@alice/"}, "acct:alice@social.example"},
		{"http://127.0.0.1:8080/@alice", Resource{User: "alice", Host: "127.0.0.1:8080", URL: "http://127.0.0.1:8080/@alice"}, "acct:alice@127.0.0.1:8080"},
		{"http://localhost:80/@alice", Resource{User: "alice", Host: "localhost", URL: "http://localhost/@alice"}, "acct:alice@localhost"},
		{"https://social.example/users/alice", Resource{Host: "social.example", URL: "https://social.example/users/alice"}, ""},
		{"https://social.example/@bob@other.example", Resource{Host: "social.example", URL: "https://social.example/@bob@other.example"}, ""},
		{"https://social.example/@alice#main", Resource{User: "alice", Host: "social.example", URL: "https://social.example/@alice"}, "acct:alice@social.example"},
		{"https://bücher.example/@J%C3%BCrgen", Resource{User: "Jürgen", Host: "xn--bcher-kva.example", URL: "https://xn--bcher-kva.example/@J%C3%BCrgen"}, "acct:J%C3%BCrgen@xn--bcher-kva.example"},
		{"https://[::1]:8443/c/town", Resource{Host: "[::1]:8443", URL: "https://[::1]:8443/c/town"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseResource(tt.in)
			if err != nil {
				t.Fatalf("ParseResource: %v", err)
			}
			if got != tt.want {
				t.Fatalf("ParseResource = %+v, want %+v", got, tt.want)
			}
			if a := got.Acct(); a != tt.acct {
				t.Errorf("Acct() = %q, want %q", a, tt.acct)
			}
			if h := got.Handle(); tt.want.User != "" && h != tt.want.User+"@"+tt.want.Host {
				t.Errorf("Handle() = %q", h)
			}
			// String() parses back to the same resource.
			again, err := ParseResource(got.String())
			if err != nil || again != got {
				t.Errorf("ParseResource(%q) = %+v, %v; want %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestParseResourceInvalid(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"alice",
		"acct:alice",
		"acct:@example.org",
		"@alice",
		"@@alice@example.org",
		"acct:alice@",
		"alice@example.org@other.example",
		"acct:al ice@example.org",
		"acct:alice@exa mple.org",
		"acct:al%ZZce@example.org",
		"acct:al%2Fice@example.org", // decoded "/"
		"acct:al%40ice@example.org", // decoded "@"
		"acct:alice@example.org:",
		"acct:alice@example.org:0",
		"acct:alice@example.org:65536",
		"acct:alice@example.org:80a",
		"acct:alice@example.org:+80",
		"acct:alice@::1",
		"acct:alice@[::1",
		"acct:alice@[::1]x",
		"acct:alice@[127.0.0.1]",
		"acct:alice@[fe80::1%25eth0]",
		"acct:alice@exa_mple.org",
		"acct:alice@-bad.org",
		"acct:alice@a..b",
		"acct:alice@example.org/path",
		"acct:alice\n@example.org",
		"mailto:alice@example.org",
		"https://",
		"https:///@alice",
		"https://user:pw@example.org/@alice",
		"https://example.org:99999/@alice",
		"ftp://example.org/@alice",
	} {
		r, err := ParseResource(in)
		if !errors.Is(err, ErrInvalidResource) {
			t.Errorf("ParseResource(%q) = %+v, %v; want ErrInvalidResource", in, r, err)
		}
	}
}
