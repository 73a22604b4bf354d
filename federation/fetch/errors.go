package fetch

import (
	"errors"
	"fmt"
	"net/netip"
)

// Error kinds. Every error the client returns is a *Error wrapping exactly
// one of them (and its cause); test with errors.Is.
var (
	// ErrForbiddenAddress: the destination (or a redirect's destination)
	// resolved to an address the Guard refuses.
	ErrForbiddenAddress = errors.New("fetch: forbidden address")
	// ErrInvalidURL: the URL cannot be parsed, has no host, or carries
	// user information.
	ErrInvalidURL = errors.New("fetch: invalid URL")
	// ErrUnsupportedScheme: the URL (or a redirect) is not http or https, or
	// a redirect would downgrade https to http.
	ErrUnsupportedScheme = errors.New("fetch: unsupported scheme")
	// ErrTooManyRedirects: more redirects than the client allows.
	ErrTooManyRedirects = errors.New("fetch: too many redirects")
	// ErrTimeout: a connect, TLS handshake, response header or whole-request
	// timeout, or the caller's context deadline, expired.
	ErrTimeout = errors.New("fetch: timeout")
	// ErrNetwork: any other transport failure (connection refused, reset,
	// TLS or certificate error, cancelled context, malformed response).
	ErrNetwork = errors.New("fetch: network error")
	// ErrTooLarge: the response body exceeds the size cap.
	ErrTooLarge = errors.New("fetch: response too large")
	// ErrStatus: the server answered with a status other than 2xx; the
	// *Error's StatusCode says which.
	ErrStatus = errors.New("fetch: unexpected status")
	// ErrContentType: the response's Content-Type is not acceptable.
	ErrContentType = errors.New("fetch: unacceptable content type")
	// ErrSign: the request could not be signed.
	ErrSign = errors.New("fetch: signing failed")
)

// kinds lists the error kinds, for classification.
var kinds = []error{ErrForbiddenAddress, ErrInvalidURL, ErrUnsupportedScheme, ErrTooManyRedirects,
	ErrTimeout, ErrNetwork, ErrTooLarge, ErrStatus, ErrContentType, ErrSign}

// Error is the error type of every Client method.
type Error struct {
	// Method is the HTTP method ("GET", "POST").
	Method string
	// URL is the URL requested (for redirects: the first one).
	URL string
	// Kind is one of the package's sentinel errors.
	Kind error
	// StatusCode is the response status for ErrStatus and ErrContentType,
	// 0 when no response was received.
	StatusCode int
	// Err is the underlying cause, if any.
	Err error
}

// Error describes the failure.
func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s: %v", e.Method, e.URL, e.Kind)
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(" (status %d)", e.StatusCode)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the kind and the cause, so that errors.Is matches both.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// ForbiddenAddressError says which address the Guard refused and why. It
// wraps ErrForbiddenAddress.
type ForbiddenAddressError struct {
	// Host is the host name being dialled, when known ("" otherwise).
	Host string
	// Addr is the refused address.
	Addr netip.Addr
	// Reason names the rule, e.g. "loopback" or "private (RFC 1918)".
	Reason string
}

// Error describes the refusal.
func (e *ForbiddenAddressError) Error() string {
	if e.Host != "" && e.Host != e.Addr.String() {
		return fmt.Sprintf("address %s of %s is forbidden: %s", e.Addr, e.Host, e.Reason)
	}
	return fmt.Sprintf("address %s is forbidden: %s", e.Addr, e.Reason)
}

// Unwrap returns ErrForbiddenAddress.
func (e *ForbiddenAddressError) Unwrap() error { return ErrForbiddenAddress }
