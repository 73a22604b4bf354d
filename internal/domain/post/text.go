package post

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hanse-network/hanse/internal/domain/note"
)

// Limits of a post.
const (
	// MaxLanguages bounds the languages of a local post's contentMap.
	MaxLanguages = 10
	// MaxRemoteLanguages bounds the languages of a received post.
	MaxRemoteLanguages = 20
	// MaxNoteChars is the longest text of a Note per language.
	MaxNoteChars = 5000
	// MaxArticleChars is the longest text of an Article (or a received
	// post) per language.
	MaxArticleChars = 100_000
	// MaxNameChars is the longest title per language.
	MaxNameChars = 200
	// MaxSummaryChars is the longest summary per language.
	MaxSummaryChars = 500
	// MaxHashtags bounds the distinct hashtags of a post.
	MaxHashtags = 30
	// MaxHashtagChars bounds one hashtag (longer "#words" are no tags).
	MaxHashtagChars = 100
	// MaxMentions bounds the distinct mentions of a post.
	MaxMentions = 50
	// MaxAttachments bounds a local post's attachments.
	MaxAttachments = 4
	// MaxRemoteAttachments bounds a received post's attachments (more are
	// dropped).
	MaxRemoteAttachments = 16
	// MaxDescriptionChars is the longest alt text.
	MaxDescriptionChars = 1500
	// MaxReasonChars is the longest removal reason.
	MaxReasonChars = 500
	// MaxContentJSONBytes bounds the JSON of a post's Content before
	// sealing, so that the event stays within the store's 1,000,000-byte
	// event limit.
	MaxContentJSONBytes = 600_000
	// Undetermined is the language tag of a text in an unknown language.
	Undetermined = "und"
)

// ValidKind reports whether k is Note or Article.
func ValidKind(k Kind) bool { return k == Note || k == Article }

// ValidVisibility reports whether v is one of the five visibilities.
func ValidVisibility(v Visibility) bool {
	switch v {
	case Public, Unlisted, Followers, Direct, Members:
		return true
	}
	return false
}

// Shareable reports whether a post of visibility v may be announced or
// boosted (never followers-only or direct posts).
func Shareable(v Visibility) bool { return v == Public || v == Unlisted || v == Members }

// ValidLanguage reports whether tag is a BCP 47 tag or "und".
func ValidLanguage(tag string) bool { return tag == Undetermined || note.ValidLanguage(tag) }

// Languages returns the sorted language keys of m.
func Languages(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkText validates one text: valid UTF-8, at most maxChars characters,
// no control characters other than tab and line breaks.
func checkText(field, s string, maxChars int) error {
	if !utf8.ValidString(s) {
		return fieldErr(field, "must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > maxChars {
		return fieldErr(field, "must be at most %d characters (has %d)", maxChars, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return fieldErr(field, "must not contain control character %U", r)
		}
	}
	return nil
}

// textRules are the limits checkMap applies to one map.
type textRules struct {
	field        string
	maxLanguages int
	maxChars     int
	required     bool // at least one language
}

// checkMap validates a language map: valid keys, texts within limits, no
// blank texts. It returns a copy without blank entries when dropBlank is
// set (names and summaries), else refuses them.
func checkMap(m map[string]string, r textRules, dropBlank bool) (map[string]string, error) {
	out := make(map[string]string, len(m))
	for _, lang := range Languages(m) {
		text := m[lang]
		if !ValidLanguage(lang) {
			return nil, fieldErr(r.field, "%q is not a BCP 47 language tag such as \"de\" or \"pt-BR\" (or \"und\")", lang)
		}
		if strings.TrimSpace(text) == "" {
			if dropBlank {
				continue
			}
			return nil, fieldErr(r.field, "the %s text must not be empty", lang)
		}
		if err := checkText(r.field, text, r.maxChars); err != nil {
			return nil, err
		}
		out[lang] = text
	}
	switch {
	case len(out) > r.maxLanguages:
		return nil, fieldErr(r.field, "must have at most %d languages", r.maxLanguages)
	case r.required && len(out) == 0:
		return nil, fieldErr(r.field, "must not be empty")
	case len(out) == 0:
		return nil, nil
	}
	return out, nil
}

// Texts is what a person wrote: the three language maps.
type Texts struct {
	ContentMap, NameMap, SummaryMap map[string]string
}

// checkLocalTexts applies the limits of local posts of kind k.
func checkLocalTexts(k Kind, t Texts) (Texts, error) {
	maxChars := MaxNoteChars
	if k == Article {
		maxChars = MaxArticleChars
	}
	var out Texts
	var err error
	if out.ContentMap, err = checkMap(t.ContentMap, textRules{field: "content", maxLanguages: MaxLanguages, maxChars: maxChars, required: true}, false); err != nil {
		return Texts{}, err
	}
	if out.NameMap, err = checkMap(t.NameMap, textRules{field: "name", maxLanguages: MaxLanguages, maxChars: MaxNameChars, required: k == Article}, true); err != nil {
		return Texts{}, err
	}
	if out.SummaryMap, err = checkMap(t.SummaryMap, textRules{field: "summary", maxLanguages: MaxLanguages, maxChars: MaxSummaryChars}, true); err != nil {
		return Texts{}, err
	}
	return out, nil
}

// checkRemoteTexts applies the (wider) limits of received posts: any
// kind may be long, titles are optional, a post may be only attachments.
func checkRemoteTexts(t Texts, attachments int) (Texts, error) {
	var out Texts
	var err error
	if out.ContentMap, err = checkMap(t.ContentMap, textRules{field: "content", maxLanguages: MaxRemoteLanguages, maxChars: MaxArticleChars}, true); err != nil {
		return Texts{}, err
	}
	if out.NameMap, err = checkMap(t.NameMap, textRules{field: "name", maxLanguages: MaxRemoteLanguages, maxChars: MaxNameChars * 5}, true); err != nil {
		return Texts{}, err
	}
	if out.SummaryMap, err = checkMap(t.SummaryMap, textRules{field: "summary", maxLanguages: MaxRemoteLanguages, maxChars: MaxSummaryChars * 10}, true); err != nil {
		return Texts{}, err
	}
	if len(out.ContentMap) == 0 && len(out.NameMap) == 0 && attachments == 0 {
		return Texts{}, fieldErr("content", "a post needs text, a title or an attachment")
	}
	return out, nil
}

// checkDescriptions validates alt texts: at most one per attachment.
func checkDescriptions(ds []string, attachments int) ([]string, error) {
	if len(ds) > attachments {
		return nil, fieldErr("descriptions", "has %d entries for %d attachments", len(ds), attachments)
	}
	for _, d := range ds {
		if err := checkText("descriptions", d, MaxDescriptionChars); err != nil {
			return nil, err
		}
	}
	// Trailing empty descriptions carry nothing.
	for len(ds) > 0 && strings.TrimSpace(ds[len(ds)-1]) == "" {
		ds = ds[:len(ds)-1]
	}
	if len(ds) == 0 {
		return nil, nil
	}
	return slices.Clone(ds), nil
}

// checkContentSize refuses content whose sealed form would not fit in
// one event.
func checkContentSize(c Content) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if len(b) > MaxContentJSONBytes {
		return fieldErr("content", "is too long altogether (%d bytes encoded, at most %d)", len(b), MaxContentJSONBytes)
	}
	return nil
}

// isTagRune reports whether r may be part of a hashtag or a username.
func isTagRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '_'
}

// boundary reports whether the rune before a '#' or '@' (utf8.RuneError
// at the start of the text) lets it start a hashtag or mention: not a
// word character, and not part of a URL or an HTML entity.
func boundary(prev rune, start bool) bool {
	if start {
		return true
	}
	return !isTagRune(prev) && !strings.ContainsRune("/&#@:.-", prev)
}

// ExtractHashtags returns the hashtags of texts ("#word": Unicode letters,
// digits and '_', at least one of them not a digit), lower-cased, without
// '#', unique, in order of first appearance.
func ExtractHashtags(texts ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, text := range texts {
		prev, start := rune(0), true
		for i, r := range text {
			if r == '#' && boundary(prev, start) {
				end := i + 1
				digitsOnly := true
				for _, c := range text[i+1:] {
					if !isTagRune(c) {
						break
					}
					if !unicode.IsDigit(c) {
						digitsOnly = false
					}
					end += utf8.RuneLen(c)
				}
				tag := strings.ToLower(text[i+1 : end])
				if n := utf8.RuneCountInString(tag); n > 0 && n <= MaxHashtagChars && !digitsOnly && !seen[tag] {
					seen[tag] = true
					out = append(out, tag)
				}
			}
			prev, start = r, false
		}
	}
	return out
}

// NormalizeHashtag lower-cases a hashtag and strips its '#'; ok is false
// for something that is not a hashtag.
func NormalizeHashtag(tag string) (string, bool) {
	tag = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(tag), "#"))
	n := utf8.RuneCountInString(tag)
	if n == 0 || n > MaxHashtagChars {
		return "", false
	}
	digitsOnly := true
	for _, r := range tag {
		if !isTagRune(r) {
			return "", false
		}
		if !unicode.IsDigit(r) {
			digitsOnly = false
		}
	}
	return tag, !digitsOnly
}

func isUserRune(r rune) bool {
	return r < utf8.RuneSelf && (r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}

func isHostRune(r rune) bool {
	return r < utf8.RuneSelf && (r == '-' || r == '.' || r == ':' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}

// ExtractMentions returns the handles mentioned in texts: "@user" as
// "user", "@user@host" as "user@host" (host lower-cased), unique, in order
// of first appearance. Usernames are ASCII letters, digits and '_' (with
// '.' and '-' inside); an e-mail address is not a mention.
func ExtractMentions(texts ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, text := range texts {
		prev, start := rune(0), true
		for i := 0; i < len(text); {
			r, size := utf8.DecodeRuneInString(text[i:])
			if r == '@' && boundary(prev, start) {
				if handle, n := mentionAt(text[i+1:]); handle != "" {
					if !seen[handle] {
						seen[handle] = true
						out = append(out, handle)
					}
					i += 1 + n
					prev, start = 'x', false
					continue
				}
			}
			prev, start = r, false
			i += size
		}
	}
	return out
}

// mentionAt parses "user" or "user@host" at the start of s and returns
// the handle and the bytes it spans ("" when s starts no handle).
func mentionAt(s string) (string, int) {
	n := 0
	for n < len(s) && (isUserRune(rune(s[n])) || (s[n] == '.' || s[n] == '-') && n > 0) {
		n++
	}
	user := strings.TrimRight(s[:n], ".-")
	n = len(user)
	if user == "" {
		return "", 0
	}
	if n < len(s) && s[n] == '@' {
		m := n + 1
		for m < len(s) && isHostRune(rune(s[m])) {
			m++
		}
		host := strings.TrimRight(s[n+1:m], ".-:")
		if strings.Contains(host, ".") || strings.Contains(host, ":") || host == "localhost" {
			return user + "@" + strings.ToLower(host), n + 1 + len(host)
		}
	}
	return user, n
}

// uniqueLimited returns the distinct non-empty values of in, in order, at
// most max of them.
func uniqueLimited(in []string, max int) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range in {
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
		if len(out) == max {
			break
		}
	}
	return out
}

// localHashtags extracts the hashtags of a local post's content (in
// language order) and checks their number.
func localHashtags(content map[string]string) ([]string, error) {
	var texts []string
	for _, lang := range Languages(content) {
		texts = append(texts, content[lang])
	}
	tags := ExtractHashtags(texts...)
	if len(tags) > MaxHashtags {
		return nil, fieldErr("content", "must have at most %d distinct hashtags (has %d)", MaxHashtags, len(tags))
	}
	return tags, nil
}

// remoteHashtags normalises a received post's hashtags, dropping what is
// not a hashtag and keeping at most MaxHashtags.
func remoteHashtags(in []string) []string {
	var tags []string
	for _, t := range in {
		if tag, ok := NormalizeHashtag(t); ok {
			tags = append(tags, tag)
		}
	}
	return uniqueLimited(tags, MaxHashtags)
}

// checkMentions validates a local post's resolved mentions (actor IRIs).
func checkMentions(in []string) ([]string, error) {
	out := uniqueLimited(in, MaxMentions+1)
	if len(out) > MaxMentions {
		return nil, fieldErr("mentions", "must name at most %d people", MaxMentions)
	}
	for _, m := range out {
		if !strings.Contains(m, "://") {
			return nil, fieldErr("mentions", "%q is not an actor IRI", m)
		}
	}
	return out, nil
}
