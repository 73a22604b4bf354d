package as2

import (
	"sort"
	"strings"
)

// Map is a natural-language map (contentMap, nameMap, summaryMap): BCP 47
// language tag → text.
type Map map[string]string

// Pick chooses the best text for the preferred languages, in order of
// preference: an exact tag match (case-insensitive) for the first
// preference that has one, then a match of the primary language subtag
// ("de" ↔ "de-AT"), then the undetermined language ("und" or ""), then the
// smallest tag, so that the choice never depends on map order. ok is false
// only for an empty map.
func (m Map) Pick(prefs ...string) (lang, text string, ok bool) {
	if len(m) == 0 {
		return "", "", false
	}
	for _, p := range prefs {
		for k, v := range m {
			if strings.EqualFold(k, p) {
				return k, v, true
			}
		}
	}
	keys := m.Languages()
	for _, p := range prefs {
		base := primarySubtag(p)
		if base == "" {
			continue
		}
		for _, k := range keys {
			if strings.EqualFold(primarySubtag(k), base) {
				return k, m[k], true
			}
		}
	}
	for _, k := range []string{"und", ""} {
		if v, found := m[k]; found {
			return k, v, true
		}
	}
	return keys[0], m[keys[0]], true
}

// Best returns the text Pick chooses, or "".
func (m Map) Best(prefs ...string) string {
	_, text, _ := m.Pick(prefs...)
	return text
}

// Languages returns the map's tags, sorted.
func (m Map) Languages() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func primarySubtag(tag string) string {
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		return tag[:i]
	}
	return tag
}
