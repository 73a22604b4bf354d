package webfinger

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseResource(f *testing.F) {
	for _, s := range []string{
		"acct:alice@example.org", "@alice@127.0.0.1:8080", "alice@[::1]:8080",
		"acct:J%C3%BCrgen@b%C3%BCcher.example", "https://social.example/@alice",
		"http://localhost:3000/users/bob?x=1#y", "acct:a@b:", "@@", "acct:%",
		"https://[fe80::1%25eth0]/@a", "anna@ＢÜＣＨＥＲ.example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseResource(s)
		if err != nil {
			return
		}
		if r.Host == "" || r.Host != strings.ToLower(r.Host) {
			t.Fatalf("%q: bad host %q", s, r.Host)
		}
		for i := 0; i < len(r.Host); i++ {
			if r.Host[i] >= utf8.RuneSelf || r.Host[i] <= ' ' || strings.ContainsRune("/@?#%", rune(r.Host[i])) {
				t.Fatalf("%q: host %q is not a plain ASCII authority", s, r.Host)
			}
		}
		if r.URL == "" && r.User == "" {
			t.Fatalf("%q: neither user nor URL: %+v", s, r)
		}
		if r.User != "" && checkUser(r.User) != nil {
			t.Fatalf("%q: invalid user %q accepted", s, r.User)
		}
		again, err := ParseResource(r.String())
		if err != nil {
			t.Fatalf("%q → %q does not parse: %v", s, r.String(), err)
		}
		if again != r {
			t.Fatalf("%q → %+v → %q → %+v", s, r, r.String(), again)
		}
		if r.User != "" {
			acct, err := ParseResource(r.Acct())
			if err != nil || acct.User != r.User || acct.Host != r.Host {
				t.Fatalf("%q: Acct %q parses to %+v, %v", s, r.Acct(), acct, err)
			}
		}
	})
}
