package post_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/internal/domain/post"
)

func TestExtractHashtags(t *testing.T) {
	tests := []struct {
		name  string
		texts []string
		want  []string
	}{
		{"simple", []string{"Heute #Imkern im #Garten"}, []string{"imkern", "garten"}},
		{"unicode, lower-cased, unique", []string{"#Ökologie #ÖKOLOGIE #日本語 #café_2"}, []string{"ökologie", "日本語", "café_2"}},
		{"across texts in order", []string{"#b #a", "#a #c"}, []string{"b", "a", "c"}},
		{"punctuation ends a tag", []string{"(#bees), #honey! #wax."}, []string{"bees", "honey", "wax"}},
		{"digits only is no tag", []string{"issue #123 and #1a"}, []string{"1a"}},
		{"inside words and URLs", []string{"a#b https://x.example/#frag &#39; ##x"}, nil},
		{"lone hash", []string{"# nothing #"}, nil},
		{"too long", []string{"#" + strings.Repeat("a", 101) + " #" + strings.Repeat("b", 100)}, []string{strings.Repeat("b", 100)}},
		{"start of line", []string{"line\n#tag"}, []string{"tag"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post.ExtractHashtags(tt.texts...); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ExtractHashtags(%q) = %q, want %q", tt.texts, got, tt.want)
			}
		})
	}
}

func TestExtractMentions(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"local", "hi @alice!", []string{"alice"}},
		{"remote", "cc @bob@Social.Example.", []string{"bob@social.example"}},
		{"port", "@carol@127.0.0.1:8080 hello", []string{"carol@127.0.0.1:8080"}},
		{"dots inside a name", "@jane.doe. yes", []string{"jane.doe"}},
		{"e-mail is no mention", "mail me: me@example.org", nil},
		{"unique, in order", "@b @a @b @a@x.example", []string{"b", "a", "a@x.example"}},
		{"host without a dot is not a host", "@a@b c", []string{"a"}},
		{"lone at", "@ and @@", nil},
		{"in URL", "https://x.example/@alice", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post.ExtractMentions(tt.text); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ExtractMentions(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestNormalizeHashtag(t *testing.T) {
	for in, want := range map[string]string{"#Bees": "bees", "Honig": "honig", " #x_1 ": "x_1"} {
		if got, ok := post.NormalizeHashtag(in); !ok || got != want {
			t.Errorf("NormalizeHashtag(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "#", "#12", "a b", "a-b", "#" + strings.Repeat("x", 101)} {
		if got, ok := post.NormalizeHashtag(bad); ok {
			t.Errorf("NormalizeHashtag(%q) = %q, ok", bad, got)
		}
	}
}
