package fetch

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Outcome classifies a request's result for retry decisions.
type Outcome int

// Outcomes.
const (
	// OutcomeSuccess: a 2xx response.
	OutcomeSuccess Outcome = iota + 1
	// OutcomeTemporary: worth retrying later (5xx, 408, 429, timeouts,
	// network errors).
	OutcomeTemporary
	// OutcomePermanent: retrying will not help (other 4xx, 3xx, forbidden
	// addresses, bad URLs, redirect loops, signing failures, unacceptable
	// or oversized responses).
	OutcomePermanent
)

// String returns "success", "temporary" or "permanent".
func (o Outcome) String() string {
	switch o {
	case OutcomeSuccess:
		return "success"
	case OutcomeTemporary:
		return "temporary"
	case OutcomePermanent:
		return "permanent"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// ClassifyStatus classifies an HTTP status: 2xx success; 408, 429 and 5xx
// temporary; everything else (1xx, 3xx, other 4xx) permanent.
func ClassifyStatus(code int) Outcome {
	switch {
	case code >= 200 && code <= 299:
		return OutcomeSuccess
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500 && code <= 599:
		return OutcomeTemporary
	}
	return OutcomePermanent
}

// ClassifyError classifies an error returned by a Client method: nil is a
// success; ErrStatus goes by its status code; ErrTimeout and ErrNetwork are
// temporary; every other kind is permanent. Errors not from this package
// count as temporary.
func ClassifyError(err error) Outcome {
	if err == nil {
		return OutcomeSuccess
	}
	var fe *Error
	if errors.As(err, &fe) {
		switch fe.Kind {
		case ErrStatus:
			return ClassifyStatus(fe.StatusCode)
		case ErrTimeout, ErrNetwork:
			return OutcomeTemporary
		}
		return OutcomePermanent
	}
	return OutcomeTemporary
}

// maxRetryAfterSeconds bounds a delay in seconds so that it fits a
// time.Duration.
const maxRetryAfterSeconds = int64(1<<63-1) / int64(time.Second)

// ParseRetryAfter parses a Retry-After header value (RFC 9110 §10.2.3):
// either a non-negative number of seconds, or an HTTP date (IMF-fixdate,
// and the obsolete RFC 850 and asctime forms), which is taken relative to
// now; a date in the past yields 0. ok is false for an empty, negative,
// overflowing or unparsable value.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return 0, false
			}
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > maxRetryAfterSeconds {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}
