package sqlite

import (
	"reflect"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
)

func metadataInputs() [][]byte {
	metas := []events.Metadata{
		{},
		{SchemaVersion: 1},
		{CorrelationID: "c", CausationID: "k", Actor: "acct:alice@example.org", Origin: "example.org",
			OccurredAt: time.Date(2025, 5, 1, 12, 0, 0, 123456789, time.UTC), SchemaVersion: 12},
		{OccurredAt: time.Date(2025, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))},
		{Actor: "https://example.org/users/<script>&"},
		{Actor: "Jürgen Müller", Origin: "köln.example"},
		{Actor: "line\nbreak \"quoted\" back\\slash"},
		{SchemaVersion: -3},
		{SchemaVersion: 1 << 40},
	}
	var out [][]byte
	for _, m := range metas {
		b, err := events.EncodeMetadata(m)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return append(out,
		[]byte(`{}`),
		[]byte(``),
		[]byte(`{"actor":"a","extra":"x"}`),
		[]byte(`{ "actor" : "a" }`),
		[]byte(`{"actor":null}`),
		[]byte(`{"schemaVersion":01}`),
		[]byte(`{"schemaVersion":1.5}`),
		[]byte(`{"schemaVersion":"1"}`),
		[]byte(`{"occurredAt":"yesterday"}`),
		[]byte(`{"occurredAt":"2025-05-01T12:00:00+02:00","actor":"a","actor":"b"}`),
		[]byte(`{"actor":"a",}`),
		[]byte(`{"actor":"a"`),
		[]byte(`not json`),
	)
}

// TestFastMetadataMatchesEncodingJSON: the fast path must give exactly what
// events.DecodeMetadata gives, or defer to it.
func TestFastMetadataMatchesEncodingJSON(t *testing.T) {
	for _, b := range metadataInputs() {
		checkMetadataDecoding(t, b)
	}
	if _, ok := fastMetadata(metadataInputs()[2], nil); !ok {
		t.Fatal("the fast path does not handle the common form")
	}
}

func checkMetadataDecoding(t *testing.T, b []byte) {
	t.Helper()
	want, wantErr := events.DecodeMetadata(b)
	got, gotErr := decodeMetadata(b, interner{})
	if (wantErr == nil) != (gotErr == nil) || !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeMetadata(%s) = %+v, %v; encoding/json gives %+v, %v", b, got, gotErr, want, wantErr)
	}
}

func FuzzMetadataDecoding(f *testing.F) {
	for _, b := range metadataInputs() {
		f.Add(b)
	}
	f.Fuzz(checkMetadataDecoding)
}

func BenchmarkDecodeMetadata(b *testing.B) {
	in := metadataInputs()[2]
	b.Run("fast", func(b *testing.B) {
		for range b.N {
			if _, err := decodeMetadata(in, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for range b.N {
			if _, err := events.DecodeMetadata(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
