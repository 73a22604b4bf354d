package as2

import (
	"bytes"
	"encoding/json"
	"testing"
)

var stringSeeds = []string{
	`""`, `"plain"`, `"a\"b"`, `"\\"`, `"\\\""`, `"\/\b\f\n\r\t"`, `"\u00e9\u4e2d"`,
	`"\ud83d\ude00"`, `"\ud83d"`, `"\ude00x"`, `"\ud83dx\u0041"`, "\"\xff\xfe\"", "\"caf\xc3\xa9\"",
	`"<p>Hello &amp; \u003cb\u003e</p>"`, `"emoji 👌"`,
}

// TestUnquote compares the decoder's string unescaping with encoding/json.
func TestUnquote(t *testing.T) {
	for _, in := range stringSeeds {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("seed %s: %v", in, err)
		}
		if got := unquote([]byte(in)); got != want {
			t.Errorf("unquote(%s) = %q, want %q", in, got, want)
		}
	}
}

func FuzzUnquote(f *testing.F) {
	for _, s := range stringSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var want string
		if json.Unmarshal(in, &want) != nil {
			return
		}
		if got := unquote(in); got != want {
			t.Fatalf("unquote(%q) = %q, encoding/json %q", in, got, want)
		}
	})
}

// FuzzSplit checks the structural splitter against encoding/json on valid
// objects and arrays.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":1,"b":[1,{"c":"]}"}],"d":"x\"}"}`, `[1, "a", {"b": null}, [true]]`,
		`{"a":1,"a":2}`, ` { "k\u0041" : "v" } `, `{"x":-1.5e3,"y":false}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(in, &m) == nil && m != nil {
			got := splitObject(in)
			if len(got) != len(m) {
				t.Fatalf("splitObject(%s): %d members, encoding/json %d", in, len(got), len(m))
			}
			for k, v := range m {
				if !bytes.Equal(bytes.TrimSpace(got[k]), bytes.TrimSpace(v)) {
					t.Fatalf("splitObject(%s)[%q] = %s, encoding/json %s", in, k, got[k], v)
				}
			}
		}
		var a []json.RawMessage
		if json.Unmarshal(in, &a) == nil && a != nil {
			got := splitArray(in)
			if len(got) != len(a) {
				t.Fatalf("splitArray(%s): %d elements, encoding/json %d", in, len(got), len(a))
			}
			for i := range a {
				if !bytes.Equal(bytes.TrimSpace(got[i]), bytes.TrimSpace(a[i])) {
					t.Fatalf("splitArray(%s)[%d] = %s, encoding/json %s", in, i, got[i], a[i])
				}
			}
		}
	})
}
