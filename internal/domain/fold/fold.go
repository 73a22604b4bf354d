package fold

// Applier is a pointer to a state that applies one event payload.
type Applier[S any] interface {
	*S
	Apply(payload any) error
}

// Fold applies payloads in order to a zero S; the first payload that does
// not apply ends it with that error and a zero state.
func Fold[S any, P Applier[S]](payloads ...any) (S, error) {
	var s S
	for _, p := range payloads {
		if err := P(&s).Apply(p); err != nil {
			var zero S
			return zero, err
		}
	}
	return s, nil
}
