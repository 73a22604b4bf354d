package as2

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode, seeded with every fixture and
// every golden document. Decode must not panic, must fail only with its
// sentinel errors, and whatever it decodes must encode and decode again to
// the same id and type.
//
//	go test ./federation/as2 -run '^$' -fuzz FuzzDecode -fuzztime 30s
func FuzzDecode(f *testing.F) {
	if _, err := os.Stat(fixtureDir); err == nil {
		for _, name := range fixtureFiles(f) {
			f.Add(readFixture(f, name))
		}
	}
	golden, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	for _, p := range golden {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"type":["Like","x"],"object":[{"id":"a"},"b",null],"to":"as:Public"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := Decode(raw)
		if err != nil {
			for _, sentinel := range []error{ErrTooLarge, ErrTooDeep, ErrMalformed, ErrNotActivityStreams} {
				if errors.Is(err, sentinel) {
					return
				}
			}
			t.Fatalf("Decode returned an unexpected error: %v", err)
		}
		_ = o.Validate()
		_ = o.ContentIn("de", "en")
		b, err := Encode(o)
		if err != nil {
			if errors.Is(err, ErrInvalidObject) || errors.Is(err, ErrTooDeep) {
				return
			}
			t.Fatalf("Encode: %v", err)
		}
		again, err := Decode(b)
		if err != nil {
			if errors.Is(err, ErrTooDeep) || errors.Is(err, ErrTooLarge) {
				return // our output may nest or weigh more than the input
			}
			t.Fatalf("Decode(Encode(x)): %v\n%s", err, b)
		}
		if again.ID != o.ID || again.Type != o.Type {
			t.Fatalf("round trip changed id/type: %q %q → %q %q", o.ID, o.Type, again.ID, again.Type)
		}
	})
}
