package as2

import (
	"bytes"
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

// The splitter below cuts an already validated JSON object or array into
// its members without decoding them: values stay sub-slices of the input
// (no copies), and every nesting level is scanned once instead of twice per
// level by encoding/json. Decode validates the whole document with
// json.Valid first; on anything unexpected the functions return nil rather
// than panic.

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'
// (-1 if it does not end). It jumps from quote to quote with
// bytes.IndexByte and counts the backslashes before each.
func skipString(b []byte, i int) int {
	for {
		j := bytes.IndexByte(b[i+1:], '"')
		if j < 0 {
			return -1
		}
		i += 1 + j
		k := i - 1
		for k >= 0 && b[k] == '\\' {
			k--
		}
		if (i-1-k)%2 == 0 {
			return i + 1
		}
	}
}

// unescape decodes the body of a valid JSON string (without its quotes)
// that contains escapes, replacing invalid UTF-8 and lone surrogates with
// U+FFFD as encoding/json does.
func unescape(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c != '\\' {
			if c < utf8.RuneSelf {
				out = append(out, c)
				i++
				continue
			}
			r, size := utf8.DecodeRune(b[i:])
			out = utf8.AppendRune(out, r)
			i += size
			continue
		}
		if i+1 >= len(b) {
			break
		}
		switch b[i+1] {
		case '"', '\\', '/':
			out = append(out, b[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := hex4(b, i+2)
			if n == 0 {
				return string(out)
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
					if r2, n2 := hex4(b, i+2); n2 != 0 {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							out = utf8.AppendRune(out, dec)
							i += 6
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return string(out)
		}
		i += 2
	}
	return string(out)
}

// hex4 reads four hex digits at b[i:]; n is 0 if there are not four.
func hex4(b []byte, i int) (r rune, n int) {
	if i+4 > len(b) {
		return 0, 0
	}
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, 0
		}
		r = r<<4 | rune(c)
	}
	return r, 4
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				j := skipString(b, i)
				if j < 0 {
					return -1
				}
				i = j - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// splitObject returns the members of a JSON object (nil if v is not one).
func splitObject(v []byte) map[string]json.RawMessage {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return nil
	}
	m := make(map[string]json.RawMessage, 16)
	i = skipSpace(v, i+1)
	if i < len(v) && v[i] == '}' {
		return m
	}
	for i < len(v) {
		if v[i] != '"' {
			return nil
		}
		end := skipString(v, i)
		if end < 0 {
			return nil
		}
		key := unquote(v[i:end])
		i = skipSpace(v, end)
		if i >= len(v) || v[i] != ':' {
			return nil
		}
		i = skipSpace(v, i+1)
		end = skipValue(v, i)
		if end < 0 {
			return nil
		}
		m[key] = json.RawMessage(v[i:end:end])
		i = skipSpace(v, end)
		if i >= len(v) {
			return nil
		}
		switch v[i] {
		case ',':
			i = skipSpace(v, i+1)
		case '}':
			return m
		default:
			return nil
		}
	}
	return nil
}

// splitArray returns the elements of a JSON array (nil if v is not one).
func splitArray(v []byte) []json.RawMessage {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '[' {
		return nil
	}
	var out []json.RawMessage
	i = skipSpace(v, i+1)
	if i < len(v) && v[i] == ']' {
		return out
	}
	for i < len(v) {
		end := skipValue(v, i)
		if end < 0 {
			return nil
		}
		out = append(out, json.RawMessage(v[i:end:end]))
		i = skipSpace(v, end)
		if i >= len(v) {
			return nil
		}
		switch v[i] {
		case ',':
			i = skipSpace(v, i+1)
		case ']':
			return out
		default:
			return nil
		}
	}
	return nil
}
