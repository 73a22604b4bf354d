package community

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/fold"
	"github.com/hanse-network/hanse/internal/domain/note"
)

// Limits of a community's fields.
const (
	// MaxNameChars is the longest name, in characters (code points).
	MaxNameChars = 100
	// MaxDescriptionChars is the longest description, in characters.
	MaxDescriptionChars = 5000
	// MaxTopics is how many topics a community may carry.
	MaxTopics = 20
	// MaxTopicChars is the longest topic, in characters.
	MaxTopicChars = 50
	// MaxLanguages is how many languages a community may declare.
	MaxLanguages = 20
	// MaxCityChars is the longest city name, in characters.
	MaxCityChars = 100
)

// Errors of the community decisions.
var (
	// ErrInvalid matches every *FieldError.
	ErrInvalid = errors.New("community: invalid")
	// ErrNotFound: the community does not exist.
	ErrNotFound = errors.New("community: not found")
	// ErrAlreadyExists: Create on a stream that already holds a community.
	ErrAlreadyExists = errors.New("community: already exists")
)

// FieldError reports one invalid input field; errors.Is(err, ErrInvalid)
// holds for it.
type FieldError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string { return "community: " + e.Field + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// State is a community folded from its stream.
type State struct {
	// Exists is true once community.created has been applied.
	Exists      bool
	ID          string
	Username    string
	Name        string
	Description string
	Topics      []string
	Languages   []string
	Location    *Location
	Policy      Policy
	Visibility  Visibility
	OwnerID     string
}

// Apply folds one event payload (value or pointer, as
// events.Registry.Decode returns them) into s. An event that cannot follow
// the state means a corrupt stream and is an error.
func (s *State) Apply(payload any) error {
	switch e := payload.(type) {
	case *Created:
		return s.Apply(*e)
	case *Updated:
		return s.Apply(*e)
	case Created:
		if s.Exists {
			return fmt.Errorf("community: %s applied to existing community %s", TypeCreated, s.ID)
		}
		*s = State{Exists: true, ID: e.CommunityID, Username: e.Username, Name: e.Name, Description: e.Description,
			Topics: slices.Clone(e.Topics), Languages: slices.Clone(e.Languages), Location: cloneLocation(e.Location),
			Policy: e.Policy, Visibility: e.Visibility, OwnerID: e.OwnerID}
	case Updated:
		if !s.Exists {
			return fmt.Errorf("community: %s before %s", TypeUpdated, TypeCreated)
		}
		if e.Name != nil {
			s.Name = *e.Name
		}
		if e.Description != nil {
			s.Description = *e.Description
		}
		if e.Topics != nil {
			s.Topics = slices.Clone(*e.Topics)
		}
		if e.Languages != nil {
			s.Languages = slices.Clone(*e.Languages)
		}
		if e.Location != nil {
			s.Location = cloneLocation(e.Location)
			if s.Location.empty() {
				s.Location = nil
			}
		}
		if e.Policy != nil {
			s.Policy = *e.Policy
		}
		if e.Visibility != nil {
			s.Visibility = *e.Visibility
		}
	default:
		return fmt.Errorf("community: cannot apply %T", payload)
	}
	return nil
}

// Fold applies payloads in order to a zero State.
func Fold(payloads ...any) (State, error) { return fold.Fold[State](payloads...) }

// NewCommunity is the input of Create; the id (the Group actor's) comes
// from the application layer.
type NewCommunity struct {
	ID          string
	Username    string
	Name        string
	Description string
	Topics      []string
	Languages   []string
	Location    *Location
	Policy      Policy
	Visibility  Visibility
	OwnerID     string
}

// Create decides the creation of a community on the stream folded into s.
// It validates and normalises every field: the username as a Group
// actor's (lower-cased), the name (trimmed, 1-100 characters), the
// description (at most 5,000 characters), the topics (see
// NormalizeTopics), the languages (see NormalizeLanguages), the location
// (see NormalizeLocation), the policy and the visibility.
func Create(s State, in NewCommunity) (Created, error) {
	if s.Exists {
		return Created{}, fmt.Errorf("%w: %s", ErrAlreadyExists, s.ID)
	}
	if in.ID == "" {
		return Created{}, invalid("id", "must not be empty")
	}
	if in.OwnerID == "" {
		return Created{}, invalid("owner", "must not be empty")
	}
	username := actor.NormalizeUsername(strings.TrimSpace(in.Username))
	if err := actor.ValidateUsername(actor.KindGroup, username); err != nil {
		var fe *actor.FieldError
		if errors.As(err, &fe) {
			return Created{}, invalid("username", "%s", fe.Reason)
		}
		return Created{}, invalid("username", "%v", err)
	}
	name, err := NormalizeName(in.Name)
	if err != nil {
		return Created{}, err
	}
	if err := CheckDescription(in.Description); err != nil {
		return Created{}, err
	}
	topics, err := NormalizeTopics(in.Topics)
	if err != nil {
		return Created{}, err
	}
	languages, err := NormalizeLanguages(in.Languages)
	if err != nil {
		return Created{}, err
	}
	location, err := NormalizeLocation(in.Location)
	if err != nil {
		return Created{}, err
	}
	if !ValidPolicy(in.Policy) {
		return Created{}, invalid("policy", "must be open, approval or invite")
	}
	if !ValidVisibility(in.Visibility) {
		return Created{}, invalid("visibility", "must be public or members")
	}
	return Created{CommunityID: in.ID, Username: username, Name: name, Description: in.Description,
		Topics: topics, Languages: languages, Location: location, Policy: in.Policy, Visibility: in.Visibility,
		OwnerID: in.OwnerID}, nil
}

// Update decides a change of the community folded into s. It validates
// and normalises the fields upd carries (as Create does; a non-nil empty
// Location removes the location) and returns only those that differ from
// the current values; changed is false when none does.
func Update(s State, upd Updated) (ev Updated, changed bool, err error) {
	if !s.Exists {
		return Updated{}, false, ErrNotFound
	}
	if upd.Name != nil {
		name, err := NormalizeName(*upd.Name)
		if err != nil {
			return Updated{}, false, err
		}
		if name != s.Name {
			ev.Name, changed = &name, true
		}
	}
	if upd.Description != nil {
		d := *upd.Description
		if err := CheckDescription(d); err != nil {
			return Updated{}, false, err
		}
		if d != s.Description {
			ev.Description, changed = &d, true
		}
	}
	if upd.Topics != nil {
		if ev.Topics, err = listChange(*upd.Topics, s.Topics, NormalizeTopics); err != nil {
			return Updated{}, false, err
		}
		changed = changed || ev.Topics != nil
	}
	if upd.Languages != nil {
		if ev.Languages, err = listChange(*upd.Languages, s.Languages, NormalizeLanguages); err != nil {
			return Updated{}, false, err
		}
		changed = changed || ev.Languages != nil
	}
	if upd.Location != nil {
		location, err := NormalizeLocation(upd.Location)
		if err != nil {
			return Updated{}, false, err
		}
		if !location.equal(s.Location) {
			if location == nil {
				location = &Location{}
			}
			ev.Location, changed = location, true
		}
	}
	if upd.Policy != nil {
		p := *upd.Policy
		if !ValidPolicy(p) {
			return Updated{}, false, invalid("policy", "must be open, approval or invite")
		}
		if p != s.Policy {
			ev.Policy, changed = &p, true
		}
	}
	if upd.Visibility != nil {
		v := *upd.Visibility
		if !ValidVisibility(v) {
			return Updated{}, false, invalid("visibility", "must be public or members")
		}
		if v != s.Visibility {
			ev.Visibility, changed = &v, true
		}
	}
	return ev, changed, nil
}

// listChange normalises a list an update carries and returns it when it
// differs from cur (an emptied list as []string{}, which Updated reads as
// a change), nil when it does not.
func listChange(in, cur []string, normalize func([]string) ([]string, error)) (*[]string, error) {
	l, err := normalize(in)
	if err != nil || slices.Equal(l, cur) {
		return nil, err
	}
	if l == nil {
		l = []string{}
	}
	return &l, nil
}

// ValidPolicy reports whether p is one of the membership policies.
func ValidPolicy(p Policy) bool { return p == Open || p == Approval || p == InviteOnly }

// ValidVisibility reports whether v is one of the visibilities.
func ValidVisibility(v Visibility) bool { return v == Public || v == Members }

// ValidRole reports whether r is one of the member roles.
func ValidRole(r Role) bool { return r == Member || r == Facilitator || r == Owner }

// NormalizeName trims white space around a name and checks it: 1 to
// MaxNameChars characters of valid UTF-8 without control characters.
func NormalizeName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", invalid("name", "must be valid UTF-8")
	}
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", invalid("name", "must not be empty")
	case n > MaxNameChars:
		return "", invalid("name", "must be at most %d characters", MaxNameChars)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", invalid("name", "must not contain control characters")
	}
	return name, nil
}

// CheckDescription checks a description: at most MaxDescriptionChars
// characters of valid UTF-8 without control characters other than tab and
// line breaks (it may be empty).
func CheckDescription(d string) error {
	if !utf8.ValidString(d) {
		return invalid("description", "must be valid UTF-8")
	}
	if utf8.RuneCountInString(d) > MaxDescriptionChars {
		return invalid("description", "must be at most %d characters", MaxDescriptionChars)
	}
	for _, r := range d {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return invalid("description", "must not contain control character %U", r)
		}
	}
	return nil
}

// NormalizeTopics checks and normalises topics (hashtags): each is 1 to
// MaxTopicChars letters, digits (with their combining marks) and '_',
// without '#' (one leading '#' is dropped), lower-cased; duplicates are
// dropped, order kept; at most MaxTopics. No topics gives nil.
func NormalizeTopics(topics []string) ([]string, error) {
	var out []string
	for _, t := range topics {
		t = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t), "#"))
		switch n := utf8.RuneCountInString(t); {
		case !utf8.ValidString(t):
			return nil, invalid("topics", "must be valid UTF-8")
		case n == 0:
			return nil, invalid("topics", "a topic must not be empty")
		case n > MaxTopicChars:
			return nil, invalid("topics", "a topic must be at most %d characters", MaxTopicChars)
		}
		for _, r := range t {
			if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r) && r != '_' {
				return nil, invalid("topics", "topic %q may hold only letters, digits and '_'", t)
			}
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > MaxTopics {
		return nil, invalid("topics", "at most %d topics", MaxTopics)
	}
	return out, nil
}

// NormalizeLanguages checks BCP 47 language tags (the syntax, as
// note.ValidLanguage) and brings them into the canonical case ("pt-BR",
// "zh-Hant-TW"); duplicates are dropped, order kept; at most MaxLanguages.
// No languages gives nil.
func NormalizeLanguages(tags []string) ([]string, error) {
	var out []string
	for _, tag := range tags {
		tag = strings.TrimSpace(tag)
		if !note.ValidLanguage(tag) {
			return nil, invalid("languages", "%q is not a BCP 47 language tag such as \"de\" or \"pt-BR\"", tag)
		}
		tag = CanonicalLanguage(tag)
		if !slices.Contains(out, tag) {
			out = append(out, tag)
		}
	}
	if len(out) > MaxLanguages {
		return nil, invalid("languages", "at most %d languages", MaxLanguages)
	}
	return out, nil
}

// CanonicalLanguage gives a (syntactically valid) BCP 47 tag its
// conventional case: the language lower-case, a four-letter script title
// case, a two-letter region upper-case, everything else lower-case.
func CanonicalLanguage(tag string) string {
	parts := strings.Split(strings.ToLower(tag), "-")
	for i := 1; i < len(parts); i++ {
		p := parts[i]
		if len(parts[i-1]) == 1 { // after a singleton (x-, u-, …) everything is private
			break
		}
		switch {
		case len(p) == 2 && isLetters(p):
			parts[i] = strings.ToUpper(p)
		case len(p) == 4 && isLetters(p):
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// NormalizeLocation checks a location and returns its normalised copy:
// the city trimmed (at most MaxCityChars characters), the country an ISO
// 3166-1 alpha-2 code in upper case, latitude -90..90 and longitude
// -180..180, both or neither. An empty location gives nil.
func NormalizeLocation(l *Location) (*Location, error) {
	if l == nil {
		return nil, nil
	}
	out := &Location{City: strings.TrimSpace(l.City), Country: strings.ToUpper(strings.TrimSpace(l.Country))}
	if !utf8.ValidString(out.City) {
		return nil, invalid("location.city", "must be valid UTF-8")
	}
	if utf8.RuneCountInString(out.City) > MaxCityChars {
		return nil, invalid("location.city", "must be at most %d characters", MaxCityChars)
	}
	if strings.IndexFunc(out.City, unicode.IsControl) >= 0 {
		return nil, invalid("location.city", "must not contain control characters")
	}
	if out.Country != "" && !ValidCountry(out.Country) {
		return nil, invalid("location.country", "must be an ISO 3166-1 alpha-2 country code such as \"DE\"")
	}
	switch {
	case (l.Latitude == nil) != (l.Longitude == nil):
		return nil, invalid("location", "give latitude and longitude together, or neither")
	case l.Latitude != nil:
		lat, lon := *l.Latitude, *l.Longitude
		if math.IsNaN(lat) || lat < -90 || lat > 90 {
			return nil, invalid("location.latitude", "must be between -90 and 90")
		}
		if math.IsNaN(lon) || lon < -180 || lon > 180 {
			return nil, invalid("location.longitude", "must be between -180 and 180")
		}
		out.Latitude, out.Longitude = &lat, &lon
	}
	if out.empty() {
		return nil, nil
	}
	return out, nil
}

func (l *Location) empty() bool {
	return l == nil || l.City == "" && l.Country == "" && l.Latitude == nil && l.Longitude == nil
}

func (l *Location) equal(o *Location) bool {
	if l.empty() || o.empty() {
		return l.empty() && o.empty()
	}
	return l.City == o.City && l.Country == o.Country && equalFloat(l.Latitude, o.Latitude) &&
		equalFloat(l.Longitude, o.Longitude)
}

func equalFloat(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func cloneLocation(l *Location) *Location {
	if l == nil {
		return nil
	}
	c := *l
	if l.Latitude != nil {
		v := *l.Latitude
		c.Latitude = &v
	}
	if l.Longitude != nil {
		v := *l.Longitude
		c.Longitude = &v
	}
	return &c
}

// ValidCountry reports whether code is an ISO 3166-1 alpha-2 code
// (upper case) officially assigned, or XK (Kosovo, in common use).
func ValidCountry(code string) bool {
	if len(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' {
		return false
	}
	for i := 0; i+1 < len(countryCodes); i += 3 {
		if countryCodes[i:i+2] == code {
			return true
		}
	}
	return false
}

// countryCodes are the officially assigned ISO 3166-1 alpha-2 codes, plus
// XK.
const countryCodes = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU " +
	"ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ " +
	"LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA " +
	"RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU " +
	"WF WS XK YE YT ZA ZM ZW"
