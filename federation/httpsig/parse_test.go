package httpsig

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSignatureHeader(t *testing.T) {
	const sig = "c2lnbmF0dXJl" // base64("signature")
	cases := []struct {
		name    string
		in      string
		want    cavageParams // compared on KeyID, Algorithm, Headers, Created, Expires
		wantErr bool
	}{
		{name: "mastodon", in: `keyId="https://a.example/users/x#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest content-type",signature="` + sig + `"`,
			want: cavageParams{KeyID: "https://a.example/users/x#main-key", Algorithm: "rsa-sha256", Headers: []string{"(request-target)", "host", "date", "digest", "content-type"}}},
		{name: "no headers means date", in: `keyId="k",signature="` + sig + `"`,
			want: cavageParams{KeyID: "k", Headers: []string{"date"}}},
		{name: "whitespace everywhere", in: " keyId = \"k\" ,\talgorithm=\"hs2019\" , headers=\"  (request-target)   host \" , signature = \"" + sig + "\" ",
			want: cavageParams{KeyID: "k", Algorithm: "hs2019", Headers: []string{"(request-target)", "host"}}},
		{name: "comma inside quoted value", in: `keyId="https://a.example/k,1",signature="` + sig + `"`,
			want: cavageParams{KeyID: "https://a.example/k,1", Headers: []string{"date"}}},
		{name: "escaped quote", in: `keyId="a\"b\\c",signature="` + sig + `"`,
			want: cavageParams{KeyID: `a"b\c`, Headers: []string{"date"}}},
		{name: "unknown params ignored", in: `foo="bar, baz",keyId="k",x=1,signature="` + sig + `"`,
			want: cavageParams{KeyID: "k", Headers: []string{"date"}}},
		{name: "quoted created/expires", in: `keyId="k",created="1756126694",expires=1756130294,headers="(created) (expires)",signature="` + sig + `"`,
			want: cavageParams{KeyID: "k", Headers: []string{"(created)", "(expires)"}, Created: "1756126694", Expires: "1756130294"}},
		{name: "upper-case header names lowered", in: `keyId="k",headers="Date Host",signature="` + sig + `"`,
			want: cavageParams{KeyID: "k", Headers: []string{"date", "host"}}},
		{name: "empty list elements", in: `,,keyId="k",,signature="` + sig + `",`,
			want: cavageParams{KeyID: "k", Headers: []string{"date"}}},

		{name: "empty", in: "", wantErr: true},
		{name: "duplicated keyId", in: `keyId="a",keyId="b",signature="` + sig + `"`, wantErr: true},
		{name: "duplicated signature", in: `keyId="a",signature="` + sig + `",signature="` + sig + `"`, wantErr: true},
		{name: "duplicated unknown param", in: `keyId="a",x=1,x=2,signature="` + sig + `"`, wantErr: true},
		{name: "missing keyId", in: `signature="` + sig + `"`, wantErr: true},
		{name: "missing signature", in: `keyId="k"`, wantErr: true},
		{name: "bad base64", in: `keyId="k",signature="!!!"`, wantErr: true},
		{name: "unterminated quote", in: `keyId="k,signature="` + sig, wantErr: true},
		{name: "dangling escape", in: `keyId="k\`, wantErr: true},
		{name: "no value", in: `keyId,signature="` + sig + `"`, wantErr: true},
		{name: "empty token value", in: `keyId=,signature="` + sig + `"`, wantErr: true},
		{name: "garbage after value", in: `keyId="k" x,signature="` + sig + `"`, wantErr: true},
		{name: "bad created", in: `keyId="k",created="12a",signature="` + sig + `"`, wantErr: true},
		{name: "negative expires", in: `keyId="k",expires=-1,signature="` + sig + `"`, wantErr: true},
		{name: "(created) without created", in: `keyId="k",headers="(created)",signature="` + sig + `"`, wantErr: true},
		{name: "unknown pseudo-header", in: `keyId="k",headers="(foo) date",signature="` + sig + `"`, wantErr: true},
		{name: "header listed twice", in: `keyId="k",headers="date date",signature="` + sig + `"`, wantErr: true},
		{name: "empty headers", in: `keyId="k",headers=" ",signature="` + sig + `"`, wantErr: true},
		{name: "invalid header name", in: `keyId="k",headers="da:te",signature="` + sig + `"`, wantErr: true},
		{name: "control character", in: "keyId=\"k\x01\",signature=\"" + sig + "\"", wantErr: true},
		{name: "RFC 9421 value", in: `sig1=:` + sig + `:`, wantErr: true},
		{name: "too long", in: `keyId="` + strings.Repeat("a", maxSignatureHeader) + `",signature="` + sig + `"`, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseSignatureHeader(tc.in)
			if tc.wantErr {
				wantKind(t, err, ErrMalformed)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.KeyID != tc.want.KeyID || p.Algorithm != tc.want.Algorithm || !reflect.DeepEqual(p.Headers, tc.want.Headers) ||
				p.Created != tc.want.Created || p.Expires != tc.want.Expires || string(p.Signature) != "signature" {
				t.Fatalf("got %+v", p)
			}
			// Serialising and parsing again gives the same parameters.
			q, err := parseSignatureHeader(p.String())
			if err != nil || q.KeyID != p.KeyID || !reflect.DeepEqual(q.Headers, p.Headers) || q.Created != p.Created || q.Expires != p.Expires {
				t.Fatalf("round trip of %q: %+v, %v", p.String(), q, err)
			}
		})
	}
}

func TestCheckDigest(t *testing.T) {
	body := []byte(`{"hello": "world"}`)
	const sha256OK = "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
	const sha512OK = "sha-512=WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew=="
	cases := []struct {
		name   string
		values []string
		want   error
	}{
		{"sha-256", []string{sha256OK}, nil},
		{"lower-case name", []string{strings.ToLower(sha256OK[:7]) + sha256OK[7:]}, nil},
		{"sha-512", []string{sha512OK}, nil},
		{"both, one line", []string{sha256OK + ", " + sha512OK}, nil},
		{"both, two lines", []string{sha256OK, sha512OK}, nil},
		{"unknown alg ignored", []string{"MD5=abc," + sha256OK}, nil},
		{"only unknown", []string{"MD5=abc"}, ErrDigestMismatch},
		{"wrong value", []string{"SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPA="}, ErrDigestMismatch},
		{"one of two wrong", []string{sha256OK + ",SHA-512=AAAA"}, ErrDigestMismatch},
		{"not base64", []string{"SHA-256=???"}, ErrDigestMismatch},
		{"no equals", []string{"SHA-256"}, ErrDigestMismatch},
		{"absent", nil, ErrMissingComponent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantKind(t, checkDigest(tc.values, body), tc.want)
		})
	}
}

func TestCheckContentDigest(t *testing.T) {
	body := []byte(`{"hello": "world"}`)
	const sha512OK = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
	const sha256OK = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
	cases := []struct {
		name   string
		values []string
		want   error
	}{
		{"sha-512", []string{sha512OK}, nil},
		{"sha-256", []string{sha256OK}, nil},
		{"both", []string{sha256OK + ", " + sha512OK}, nil},
		{"unknown ignored", []string{"md5=:AAAA:, " + sha256OK}, nil},
		{"only unknown", []string{"md5=:AAAA:"}, ErrDigestMismatch},
		{"wrong", []string{"sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPA=:"}, ErrDigestMismatch},
		{"not a byte sequence", []string{`sha-256="X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="`}, ErrDigestMismatch},
		{"cavage syntax", []string{"SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="}, ErrDigestMismatch},
		{"absent", nil, ErrMissingComponent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantKind(t, checkContentDigest(tc.values, body), tc.want)
		})
	}
}
