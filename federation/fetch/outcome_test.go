package fetch

import (
	"errors"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 3600 ", time.Hour, true},
		{"86400", 24 * time.Hour, true},
		{"Sat, 01 Mar 2025 12:00:30 GMT", 30 * time.Second, true}, // IMF-fixdate
		{"Saturday, 01-Mar-25 13:00:00 GMT", time.Hour, true},     // RFC 850
		{"Sat Mar  1 12:10:00 2025", 10 * time.Minute, true},      // asctime
		{"Sat, 01 Mar 2025 11:00:00 GMT", 0, true},                // in the past
		{"", 0, false},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"12abc", 0, false},
		{"+30", 0, false},
		{"99999999999999999999", 0, false}, // overflows int64
		{"9300000000000", 0, false},        // overflows time.Duration
		{"tomorrow", 0, false},
		{"2025-03-01T12:30:00Z", 0, false}, // not an HTTP date
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestClassify(t *testing.T) {
	statuses := []struct {
		code int
		want Outcome
	}{
		{100, OutcomePermanent}, {200, OutcomeSuccess}, {201, OutcomeSuccess}, {202, OutcomeSuccess},
		{299, OutcomeSuccess}, {301, OutcomePermanent}, {304, OutcomePermanent}, {400, OutcomePermanent},
		{404, OutcomePermanent}, {408, OutcomeTemporary}, {410, OutcomePermanent}, {413, OutcomePermanent},
		{429, OutcomeTemporary}, {500, OutcomeTemporary}, {503, OutcomeTemporary}, {599, OutcomeTemporary},
		{600, OutcomePermanent},
	}
	for _, tt := range statuses {
		if got := ClassifyStatus(tt.code); got != tt.want {
			t.Errorf("ClassifyStatus(%d) = %v, want %v", tt.code, got, tt.want)
		}
	}
	errs := []struct {
		err  error
		want Outcome
	}{
		{nil, OutcomeSuccess},
		{&Error{Kind: ErrStatus, StatusCode: 503}, OutcomeTemporary},
		{&Error{Kind: ErrStatus, StatusCode: 404}, OutcomePermanent},
		{&Error{Kind: ErrTimeout}, OutcomeTemporary},
		{&Error{Kind: ErrNetwork}, OutcomeTemporary},
		{&Error{Kind: ErrForbiddenAddress}, OutcomePermanent},
		{&Error{Kind: ErrTooManyRedirects}, OutcomePermanent},
		{&Error{Kind: ErrTooLarge}, OutcomePermanent},
		{&Error{Kind: ErrContentType}, OutcomePermanent},
		{&Error{Kind: ErrSign}, OutcomePermanent},
		{&Error{Kind: ErrInvalidURL}, OutcomePermanent},
		{&Error{Kind: ErrUnsupportedScheme}, OutcomePermanent},
		{errors.New("foreign"), OutcomeTemporary},
	}
	for _, tt := range errs {
		if got := ClassifyError(tt.err); got != tt.want {
			t.Errorf("ClassifyError(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	for o, s := range map[Outcome]string{OutcomeSuccess: "success", OutcomeTemporary: "temporary", OutcomePermanent: "permanent", 0: "Outcome(0)"} {
		if o.String() != s {
			t.Errorf("%d.String() = %q", int(o), o.String())
		}
	}
}
