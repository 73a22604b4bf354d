package as2

import (
	"testing"
)

func benchmarkDecode(b *testing.B, name string) {
	raw := readFixture(b, name)
	fixtureFiles(b) // skips when the fixtures are absent
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeMastodonCreateNote(b *testing.B) { benchmarkDecode(b, "mastodon/create_note.json") }

func BenchmarkDecodeWordPressArticle(b *testing.B) { benchmarkDecode(b, "wordpress/article.json") }

func BenchmarkEncodeCreateNote(b *testing.B) {
	create := NewActivity(TypeCreate, alice+"/posts/1/activity", alice, Embed(note()))
	create.To, create.CC, create.Published = []string{Public}, []string{alice + "/followers", community}, t0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(create); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGoFedToTypeMastodonCreateNote is go-fed's typed decoding of the
// same document, for comparison (see the package documentation).
func BenchmarkGoFedToTypeMastodonCreateNote(b *testing.B) {
	fixtureFiles(b)
	raw := readFixture(b, "mastodon/create_note.json")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := goFedToType(raw); err != nil {
			b.Fatal(err)
		}
	}
}
