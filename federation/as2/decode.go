package as2

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Default limits of Decode.
const (
	// DefaultMaxBytes is the largest document Decode accepts (1 MiB).
	DefaultMaxBytes = 1 << 20
	// DefaultMaxDepth is the deepest nesting of JSON objects and arrays
	// Decode accepts.
	DefaultMaxDepth = 32
)

// Limits bounds the documents DecodeWithLimits accepts. Zero fields take the
// defaults.
type Limits struct {
	// MaxBytes is the largest accepted input, in bytes.
	MaxBytes int
	// MaxDepth is the deepest accepted nesting of objects and arrays (the
	// top-level object is depth 1).
	MaxDepth int
}

// Decode reads any ActivityStreams document with the default limits. See
// DecodeWithLimits.
func Decode(raw []byte) (*Object, error) { return DecodeWithLimits(raw, Limits{}) }

// DecodeWithLimits reads an ActivityStreams document (an activity, actor,
// object or collection) into Hanse's plain view. It is tolerant: a missing
// or foreign @context, type arrays, single values where arrays are usual
// and the reverse, null texts, unknown types and vendor properties are all
// accepted, and what had to be tolerated or skipped is listed in
// Object.Issues. It fails only with ErrTooLarge, ErrTooDeep, ErrMalformed
// (not JSON, or not a JSON object) or ErrNotActivityStreams (no type). It
// never panics. The input is copied into Object.Raw.
func DecodeWithLimits(raw []byte, lim Limits) (*Object, error) {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultMaxBytes
	}
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultMaxDepth
	}
	if len(raw) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), lim.MaxBytes)
	}
	if err := checkDepth(raw, lim.MaxDepth); err != nil {
		return nil, err
	}
	raw = bytes.Clone(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")))
	if !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	m := splitObject(raw)
	if m == nil {
		return nil, fmt.Errorf("%w: the top level is not a JSON object", ErrMalformed)
	}
	d := &decoder{}
	o := d.fromMap(m, raw, "")
	if len(o.Types) == 0 {
		return nil, ErrNotActivityStreams
	}
	if o.ID == "" {
		if len(d.issues) >= maxIssues {
			d.issues = d.issues[:maxIssues-1] // keep room: the inbox needs this one
			d.dropped++
		}
		d.issue("id", IssueMissingID, "the object has no id")
	}
	if d.dropped > 0 {
		d.issues = append(d.issues, Issue{Code: IssueTruncated, Detail: strconv.Itoa(d.dropped) + " more issues not listed"})
	}
	o.Issues = d.issues
	return o, nil
}

// Validate returns an error wrapping ErrInvalidID for each missing top-level
// id or non-absolute id/IRI reference the decoder reported (nil if none).
// The inbox requires what Validate requires: activities must be
// dereferenceable and deduplicated by id.
func (o *Object) Validate() error {
	var errs []error
	for _, is := range o.Issues {
		if is.Code == IssueMissingID || is.Code == IssueIDNotAbsolute {
			errs = append(errs, fmt.Errorf("%w: %s", ErrInvalidID, is))
		}
	}
	return errors.Join(errs...)
}

// checkDepth rejects documents nesting objects and arrays deeper than max,
// before any recursive parsing.
func checkDepth(raw []byte, max int) error {
	depth := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '"':
			j := skipString(raw, i)
			if j < 0 {
				return nil // unterminated: json.Valid reports it
			}
			i = j - 1
		case '{', '[':
			depth++
			if depth > max {
				return fmt.Errorf("%w: deeper than %d levels", ErrTooDeep, max)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// maxIssues bounds the issues listed for one document; the rest are
// counted in a final IssueTruncated.
const maxIssues = 64

type decoder struct {
	issues  []Issue
	dropped int
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func (d *decoder) issue(path string, code IssueCode, detail string) {
	if len(d.issues) >= maxIssues {
		d.dropped++
		return
	}
	d.issues = append(d.issues, Issue{Path: path, Code: code, Detail: detail})
}

func (d *decoder) bad(path string, v json.RawMessage, want string) {
	s := string(v)
	if len(s) > 80 {
		n := 80
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	d.issue(path, IssueBadValue, "want "+want+", got "+s)
}

// firstByte returns the first non-space byte of a JSON value (0 if none).
func firstByte(v []byte) byte {
	for _, c := range v {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

func isNull(v json.RawMessage) bool {
	c := firstByte(v)
	return c == 0 || c == 'n'
}

// unquote decodes a JSON string; the input has been validated already.
func unquote(v []byte) string {
	v = bytes.TrimSpace(v)
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return ""
	}
	body := v[1 : len(v)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body)
	}
	return unescape(body)
}

func (d *decoder) str(m map[string]json.RawMessage, path, key string) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	switch firstByte(v) {
	case 0, 'n':
		return ""
	case '"':
		return unquote(v)
	}
	d.bad(join(path, key), v, "a string")
	return ""
}

// iri reads an IRI-valued property: a string, an object's id (or href), or
// the first of an array.
func (d *decoder) iri(m map[string]json.RawMessage, path, key string) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	return d.iriValue(v, path, key)
}

// iriValue reads one IRI value; path and key locate it for issues (key may
// be an index such as "[2]").
func (d *decoder) iriValue(v json.RawMessage, path, key string) string {
	switch firstByte(v) {
	case 0, 'n':
		return ""
	case '"':
		return unquote(v)
	case '{':
		x := splitObject(v)
		if firstByte(x["id"]) == '"' {
			return unquote(x["id"])
		}
		if firstByte(x["href"]) == '"' {
			return unquote(x["href"])
		}
		return ""
	case '[':
		for i, el := range elements(v) {
			if s := d.iriValue(el, locate(path, key), "["+strconv.Itoa(i)+"]"); s != "" {
				return s
			}
		}
		return ""
	}
	d.bad(locate(path, key), v, "an IRI")
	return ""
}

// locate joins a path and a key or an index.
func locate(path, key string) string {
	if strings.HasPrefix(key, "[") {
		return path + key
	}
	return join(path, key)
}

// iris reads an addressing property (to, cc, audience…) as IRIs. The
// compact forms "as:Public" and "Public" become Public.
func (d *decoder) iris(m map[string]json.RawMessage, path, key string) []string {
	v, ok := m[key]
	if !ok || isNull(v) {
		return nil
	}
	var out []string
	for i, el := range elements(v) {
		s := d.iriValue(el, join(path, key), "["+strconv.Itoa(i)+"]")
		if s == "as:Public" || s == "Public" {
			s = Public
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// isAbsoluteIRI reports whether s has a scheme, and for http(s) a host.
func isAbsoluteIRI(s string) bool {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (j == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	scheme := strings.ToLower(s[:i])
	if scheme == "http" || scheme == "https" {
		rest := s[i+1:]
		if !strings.HasPrefix(rest, "//") {
			return false
		}
		host := rest[2:]
		if k := strings.IndexAny(host, "/?#"); k >= 0 {
			host = host[:k]
		}
		return host != ""
	}
	return true
}

func (d *decoder) checkAbsolute(id, path string) {
	if id != "" && !isAbsoluteIRI(id) {
		d.issue(path, IssueIDNotAbsolute, strconv.Quote(id))
	}
}

func (d *decoder) typeList(v json.RawMessage, path string) []string {
	switch firstByte(v) {
	case 0, 'n':
		return nil
	case '"':
		if s := normalizeType(unquote(v)); s != "" {
			return []string{s}
		}
		return nil
	case '[':
		var out []string
		for _, el := range splitArray(v) {
			if firstByte(el) == '"' {
				if s := normalizeType(unquote(el)); s != "" {
					out = append(out, s)
				}
			}
		}
		return out
	}
	d.bad(path, v, "a type name")
	return nil
}

func (d *decoder) types(m map[string]json.RawMessage, path string) []string {
	if v, ok := m["type"]; ok {
		return d.typeList(v, join(path, "type"))
	}
	if v, ok := m["@type"]; ok {
		return d.typeList(v, join(path, "@type"))
	}
	return nil
}

func (d *decoder) boolean(m map[string]json.RawMessage, path, key string) bool {
	v, ok := m[key]
	if !ok {
		return false
	}
	switch firstByte(v) {
	case 0, 'n', 'f':
		return false
	case 't':
		return true
	case '"':
		switch strings.ToLower(unquote(v)) {
		case "true":
			return true
		case "false", "":
			return false
		}
	}
	d.bad(join(path, key), v, "a boolean")
	return false
}

func (d *decoder) number(m map[string]json.RawMessage, path, key string) (float64, bool) {
	v, ok := m[key]
	if !ok {
		return 0, false
	}
	c := firstByte(v)
	var s string
	switch {
	case c == 0 || c == 'n':
		return 0, false
	case c == '"':
		s = strings.TrimSpace(unquote(v))
	case c == '-' || c >= '0' && c <= '9':
		s = string(bytes.TrimSpace(v))
	default:
		d.bad(join(path, key), v, "a number")
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		d.bad(join(path, key), v, "a number")
		return 0, false
	}
	return f, true
}

func (d *decoder) intPtr(m map[string]json.RawMessage, path, key string) *int {
	f, ok := d.number(m, path, key)
	if !ok {
		return nil
	}
	if f != math.Trunc(f) || f > math.MaxInt32 || f < math.MinInt32 {
		d.bad(join(path, key), m[key], "an integer")
		return nil
	}
	n := int(f)
	return &n
}

func (d *decoder) integer(m map[string]json.RawMessage, path, key string) int {
	if p := d.intPtr(m, path, key); p != nil {
		return *p
	}
	return 0
}

func (d *decoder) floatPtr(m map[string]json.RawMessage, path, key string) *float64 {
	f, ok := d.number(m, path, key)
	if !ok {
		return nil
	}
	return &f
}

// Time layouts tried after RFC 3339: numeric zones without a colon, no zone
// at all (read as UTC), and a bare date.
var timeLayouts = []string{
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02",
}

// ParseTime reads an xsd:dateTime as servers write it and returns it in UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t.UTC(), nil
	}
	for _, layout := range timeLayouts {
		if t, e := time.Parse(layout, s); e == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}

func (d *decoder) time(m map[string]json.RawMessage, path, key string) time.Time {
	v, ok := m[key]
	if !ok || isNull(v) {
		return time.Time{}
	}
	if firstByte(v) != '"' {
		d.bad(join(path, key), v, "a date-time")
		return time.Time{}
	}
	t, err := ParseTime(unquote(v))
	if err != nil {
		d.issue(join(path, key), IssueBadTime, strconv.Quote(unquote(v)))
		return time.Time{}
	}
	return t
}

func (d *decoder) langMap(m map[string]json.RawMessage, path, key string) Map {
	v, ok := m[key]
	if !ok || isNull(v) {
		return nil
	}
	if firstByte(v) != '{' {
		d.bad(join(path, key), v, "a language map")
		return nil
	}
	raw := splitObject(v)
	out := make(Map, len(raw))
	for lang, text := range raw {
		switch firstByte(text) {
		case 'n':
		case '"':
			out[lang] = unquote(text)
		default:
			d.bad(join(join(path, key), lang), text, "a string")
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// elements returns the elements of an array value, or the value itself as
// the only element; nil for null.
func elements(v json.RawMessage) []json.RawMessage {
	switch firstByte(v) {
	case 0, 'n':
		return nil
	case '[':
		return splitArray(v)
	}
	return []json.RawMessage{v}
}

func objectMap(v json.RawMessage) map[string]json.RawMessage {
	if firstByte(v) != '{' {
		return nil
	}
	return splitObject(v)
}

func refID(o *Object) string {
	if o.ID != "" {
		return o.ID
	}
	return o.Href
}

// refs reads an object-valued property: IRIs, inline objects, or arrays of
// either. check reports non-absolute IRIs.
func (d *decoder) refs(m map[string]json.RawMessage, path, key string, check bool) Refs {
	v, ok := m[key]
	if !ok {
		return nil
	}
	var out Refs
	d.appendRefs(&out, v, join(path, key), check)
	return out
}

func (d *decoder) appendRefs(out *Refs, v json.RawMessage, path string, check bool) {
	switch firstByte(v) {
	case 0, 'n':
	case '"':
		if s := unquote(v); s != "" {
			if check {
				d.checkAbsolute(s, path)
			}
			*out = append(*out, Ref{ID: s})
		}
	case '{':
		if o := d.object(v, path); o != nil {
			*out = append(*out, Ref{ID: refID(o), Object: o})
		}
	case '[':
		for i, el := range elements(v) {
			d.appendRefs(out, el, index(path, i), check)
		}
	default:
		d.bad(path, v, "an IRI or object")
	}
}

// object decodes an inline object.
func (d *decoder) object(v json.RawMessage, path string) *Object {
	m := objectMap(v)
	if m == nil {
		return nil
	}
	return d.fromMap(m, v, path)
}

func has(m map[string]json.RawMessage, keys ...string) bool {
	for _, k := range keys {
		if v, ok := m[k]; ok && !isNull(v) {
			return true
		}
	}
	return false
}

func (d *decoder) fromMap(m map[string]json.RawMessage, raw json.RawMessage, path string) *Object {
	o := &Object{Raw: raw}
	idKey := "id"
	if _, ok := m[idKey]; !ok {
		idKey = "@id"
	}
	if v, ok := m[idKey]; ok {
		if firstByte(v) == '"' {
			o.ID = unquote(v)
			d.checkAbsolute(o.ID, join(path, idKey))
		} else if !isNull(v) {
			d.bad(join(path, idKey), v, "an IRI")
		}
	}
	o.Types = d.types(m, path)
	o.Type = primaryType(o.Types)
	if info, ok := vocabulary[o.Type]; ok {
		o.Kind = info.kind
	} else {
		if len(o.Types) > 0 {
			d.issue(join(path, "type"), IssueUnknownType, strings.Join(o.Types, ", "))
		}
		o.Kind = shapeKind(m)
	}

	o.Actor = d.refs(m, path, "actor", true)
	o.Object = d.refs(m, path, "object", true)
	o.Target = d.refs(m, path, "target", true)
	o.Origin = d.refs(m, path, "origin", false)
	o.Instrument = d.refs(m, path, "instrument", false)
	o.Result = d.refs(m, path, "result", false)
	o.AttributedTo = d.refs(m, path, "attributedTo", true)
	o.InReplyTo = d.refs(m, path, "inReplyTo", true)
	o.Location = d.refs(m, path, "location", false)
	o.Replies = d.refs(m, path, "replies", false)

	o.To = d.iris(m, path, "to")
	o.CC = d.iris(m, path, "cc")
	o.BTo = d.iris(m, path, "bto")
	o.BCC = d.iris(m, path, "bcc")
	o.Audience = d.iris(m, path, "audience")

	o.Published = d.time(m, path, "published")
	o.Updated = d.time(m, path, "updated")
	o.StartTime = d.time(m, path, "startTime")
	o.EndTime = d.time(m, path, "endTime")
	o.Deleted = d.time(m, path, "deleted")

	o.Name = d.str(m, path, "name")
	o.Summary = d.str(m, path, "summary")
	o.Content = d.str(m, path, "content")
	o.NameMap = d.langMap(m, path, "nameMap")
	o.SummaryMap = d.langMap(m, path, "summaryMap")
	o.ContentMap = d.langMap(m, path, "contentMap")
	o.MediaType = d.str(m, path, "mediaType")
	o.Sensitive = d.boolean(m, path, "sensitive")
	if src := objectMap(m["source"]); src != nil {
		p := join(path, "source")
		o.Source = &Source{Content: d.str(src, p, "content"), MediaType: d.str(src, p, "mediaType")}
	}

	o.URL = d.links(m, path, "url")
	o.Href = d.str(m, path, "href")
	o.Tag = d.tags(m, path)
	o.Attachment = d.attachments(m, path)
	o.Icon = d.images(m, path, "icon")
	o.Image = d.images(m, path, "image")

	if v, ok := m["address"]; ok && !isNull(v) {
		o.Address = d.address(v, join(path, "address"))
	}
	o.Latitude = d.floatPtr(m, path, "latitude")
	o.Longitude = d.floatPtr(m, path, "longitude")

	if o.Kind == KindActor || has(m, "inbox", "publicKey", "preferredUsername", "assertionMethod") {
		o.Profile = d.profile(m, path)
	}
	if o.Type == TypeEvent || has(m, eventKeys...) {
		o.Event = d.event(m, path)
	}
	if o.Type == TypeQuestion || has(m, "oneOf", "anyOf") {
		o.Question = d.question(m, path)
	}
	if o.Kind == KindCollection || has(m, "items", "orderedItems", "totalItems") {
		o.Collection = d.collection(m, path)
	}
	return o
}

// shapeKind guesses the kind of an object whose types are all unknown.
func shapeKind(m map[string]json.RawMessage) Kind {
	switch {
	case has(m, "actor"):
		return KindActivity
	case has(m, "inbox"):
		return KindActor
	case has(m, "items", "orderedItems", "totalItems"):
		return KindCollection
	case has(m, "href") && !has(m, "id"):
		return KindLink
	}
	return KindObject
}

// list decodes property key of m — one value or an array — element by
// element: an IRI string with fromIRI, an object with fromObject (given the
// element's path); an element either returns false for is left out, null is
// skipped, and anything else is reported as not being what.
func list[T any](d *decoder, m map[string]json.RawMessage, path, key, what string,
	fromIRI func(iri string) (T, bool), fromObject func(om map[string]json.RawMessage, p string) (T, bool)) []T {
	v, ok := m[key]
	if !ok {
		return nil
	}
	var out []T
	for i, el := range elements(v) {
		p := index(join(path, key), i)
		var item T
		keep := false
		switch firstByte(el) {
		case '"':
			item, keep = fromIRI(unquote(el))
		case '{':
			item, keep = fromObject(objectMap(el), p)
		case 0, 'n':
		default:
			d.bad(p, el, what)
		}
		if keep {
			out = append(out, item)
		}
	}
	return out
}

func (d *decoder) links(m map[string]json.RawMessage, path, key string) []Link {
	return list(d, m, path, key, "a URL or Link",
		func(iri string) (Link, bool) { return Link{Href: iri}, iri != "" },
		func(lm map[string]json.RawMessage, p string) (Link, bool) {
			l := Link{
				Type:      primaryType(d.types(lm, p)),
				Href:      d.str(lm, p, "href"),
				MediaType: d.str(lm, p, "mediaType"),
				Rel:       d.strings(lm, p, "rel"),
				Name:      d.str(lm, p, "name"),
				Width:     d.integer(lm, p, "width"),
				Height:    d.integer(lm, p, "height"),
			}
			if l.Href == "" {
				l.Href = d.firstHref(lm, p, "url")
			}
			return l, l.Href != ""
		})
}

// firstHref returns the first href of a url-like property.
func (d *decoder) firstHref(m map[string]json.RawMessage, path, key string) string {
	if ls := d.links(m, path, key); len(ls) > 0 {
		return ls[0].Href
	}
	return ""
}

func (d *decoder) strings(m map[string]json.RawMessage, path, key string) []string {
	v, ok := m[key]
	if !ok {
		return nil
	}
	var out []string
	for _, el := range elements(v) {
		if firstByte(el) == '"' {
			out = append(out, unquote(el))
		}
	}
	return out
}

func (d *decoder) tags(m map[string]json.RawMessage, path string) []Tag {
	return list(d, m, path, "tag", "a tag object",
		func(iri string) (Tag, bool) { return Tag{Href: iri}, true },
		func(tm map[string]json.RawMessage, p string) (Tag, bool) {
			t := Tag{
				Type:    primaryType(d.types(tm, p)),
				ID:      d.str(tm, p, "id"),
				Name:    d.str(tm, p, "name"),
				Href:    d.str(tm, p, "href"),
				Updated: d.time(tm, p, "updated"),
			}
			if icons := d.images(tm, p, "icon"); len(icons) > 0 {
				t.Icon = &icons[0]
			}
			return t, true
		})
}

func (d *decoder) attachments(m map[string]json.RawMessage, path string) []Attachment {
	return list(d, m, path, "attachment", "an attachment object",
		func(iri string) (Attachment, bool) { return Attachment{URL: iri}, true },
		func(am map[string]json.RawMessage, p string) (Attachment, bool) {
			a := Attachment{
				Type:      primaryType(d.types(am, p)),
				Name:      d.str(am, p, "name"),
				Value:     d.str(am, p, "value"),
				MediaType: d.str(am, p, "mediaType"),
				URL:       d.str(am, p, "href"),
				Width:     d.integer(am, p, "width"),
				Height:    d.integer(am, p, "height"),
				Blurhash:  d.str(am, p, "blurhash"),
			}
			if a.URL == "" {
				a.URL = d.firstHref(am, p, "url")
			}
			return a, true
		})
}

func (d *decoder) images(m map[string]json.RawMessage, path, key string) []Image {
	return list(d, m, path, key, "an image",
		func(iri string) (Image, bool) { return Image{URL: iri}, true },
		func(im map[string]json.RawMessage, p string) (Image, bool) {
			img := Image{
				Type:      primaryType(d.types(im, p)),
				URL:       d.firstHref(im, p, "url"),
				MediaType: d.str(im, p, "mediaType"),
				Name:      d.str(im, p, "name"),
				Width:     d.integer(im, p, "width"),
				Height:    d.integer(im, p, "height"),
			}
			if img.URL == "" {
				img.URL = d.str(im, p, "href")
			}
			return img, true
		})
}

func (d *decoder) address(v json.RawMessage, path string) *PostalAddress {
	switch firstByte(v) {
	case '"':
		return &PostalAddress{Text: unquote(v)}
	case '{':
		am := objectMap(v)
		return &PostalAddress{
			StreetAddress:   d.str(am, path, "streetAddress"),
			PostalCode:      d.str(am, path, "postalCode"),
			AddressLocality: d.str(am, path, "addressLocality"),
			AddressRegion:   d.str(am, path, "addressRegion"),
			AddressCountry:  d.str(am, path, "addressCountry"),
		}
	}
	d.bad(path, v, "a PostalAddress")
	return nil
}

func (d *decoder) profile(m map[string]json.RawMessage, path string) *ActorProfile {
	p := &ActorProfile{
		PreferredUsername:         d.str(m, path, "preferredUsername"),
		Inbox:                     d.iri(m, path, "inbox"),
		Outbox:                    d.iri(m, path, "outbox"),
		Followers:                 d.iri(m, path, "followers"),
		Following:                 d.iri(m, path, "following"),
		Featured:                  d.iri(m, path, "featured"),
		FeaturedTags:              d.iri(m, path, "featuredTags"),
		ManuallyApprovesFollowers: d.boolean(m, path, "manuallyApprovesFollowers"),
		Discoverable:              d.boolean(m, path, "discoverable"),
		MovedTo:                   d.iri(m, path, "movedTo"),
		AlsoKnownAs:               d.iris(m, path, "alsoKnownAs"),
	}
	if ep := objectMap(m["endpoints"]); ep != nil {
		p.SharedInbox = d.iri(ep, join(path, "endpoints"), "sharedInbox")
	}
	for i, el := range elements(m["publicKey"]) {
		kp := index(join(path, "publicKey"), i)
		switch firstByte(el) {
		case '"':
			p.PublicKeys = append(p.PublicKeys, PublicKey{ID: unquote(el)})
		case '{':
			km := objectMap(el)
			p.PublicKeys = append(p.PublicKeys, PublicKey{
				ID:    d.str(km, kp, "id"),
				Owner: d.iri(km, kp, "owner"),
				PEM:   d.str(km, kp, "publicKeyPem"),
			})
		default:
			d.bad(kp, el, "a publicKey")
		}
	}
	for i, el := range elements(m["assertionMethod"]) {
		kp := index(join(path, "assertionMethod"), i)
		switch firstByte(el) {
		case '"':
			p.AssertionMethods = append(p.AssertionMethods, Multikey{ID: unquote(el)})
		case '{':
			km := objectMap(el)
			p.AssertionMethods = append(p.AssertionMethods, Multikey{
				ID:                 d.str(km, kp, "id"),
				Controller:         d.iri(km, kp, "controller"),
				PublicKeyMultibase: d.str(km, kp, "publicKeyMultibase"),
			})
		default:
			d.bad(kp, el, "a Multikey")
		}
	}
	return p
}

var eventKeys = []string{"timezone", "joinMode", "maximumAttendeeCapacity",
	"remainingAttendeeCapacity", "participantCount", "isOnline", "ical:status"}

func (d *decoder) event(m map[string]json.RawMessage, path string) *Event {
	return &Event{
		Timezone:                  d.str(m, path, "timezone"),
		JoinMode:                  d.str(m, path, "joinMode"),
		MaximumAttendeeCapacity:   d.intPtr(m, path, "maximumAttendeeCapacity"),
		RemainingAttendeeCapacity: d.intPtr(m, path, "remainingAttendeeCapacity"),
		ParticipantCount:          d.intPtr(m, path, "participantCount"),
		IsOnline:                  d.boolean(m, path, "isOnline"),
		InLanguage:                d.str(m, path, "inLanguage"),
		Status:                    d.str(m, path, "ical:status"),
	}
}

func (d *decoder) question(m map[string]json.RawMessage, path string) *Question {
	q := &Question{VotersCount: d.intPtr(m, path, "votersCount")}
	key := "oneOf"
	if has(m, "anyOf") {
		key, q.Multiple = "anyOf", true
	}
	for i, el := range elements(m[key]) {
		p := index(join(path, key), i)
		om := objectMap(el)
		if om == nil {
			d.bad(p, el, "a poll option")
			continue
		}
		opt := QuestionOption{Name: d.str(om, p, "name")}
		if opt.Name == "" {
			opt.Name = d.langMap(om, p, "nameMap").Best()
		}
		if rm := objectMap(om["replies"]); rm != nil {
			opt.Votes = d.integer(rm, join(p, "replies"), "totalItems")
		}
		q.Options = append(q.Options, opt)
	}
	if v := m["closed"]; firstByte(v) == '"' {
		q.Closed = d.time(m, path, "closed")
	}
	return q
}

func (d *decoder) collection(m map[string]json.RawMessage, path string) *Collection {
	c := &Collection{
		TotalItems: d.intPtr(m, path, "totalItems"),
		First:      d.refs(m, path, "first", false),
		Last:       d.refs(m, path, "last", false),
		Next:       d.refs(m, path, "next", false),
		Prev:       d.refs(m, path, "prev", false),
		Current:    d.refs(m, path, "current", false),
		PartOf:     d.refs(m, path, "partOf", false),
	}
	if has(m, "orderedItems") {
		c.Items = d.refs(m, path, "orderedItems", false)
	} else {
		c.Items = d.refs(m, path, "items", false)
	}
	return c
}
