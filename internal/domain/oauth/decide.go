package oauth

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// NewApp is the input of RegisterApp. ClientID and SecretHash come from the
// application layer (random values; only the secret's hash is kept).
type NewApp struct {
	ClientID     string
	SecretHash   string
	Name         string
	Website      string
	RedirectURIs []string
	// Scopes requested for the application; none means DefaultScope.
	Scopes []string
}

// RegisterApp decides the registration of a new application on the stream
// folded into s. Field errors name the API parameters (client_name,
// redirect_uris, scopes, website).
func RegisterApp(s App, in NewApp) (AppRegistered, error) {
	if s.Exists {
		return AppRegistered{}, fmt.Errorf("%w: %s", ErrAppExists, s.ClientID)
	}
	if in.ClientID == "" || in.SecretHash == "" {
		return AppRegistered{}, &FieldError{Field: "client_id", Reason: "must not be empty"}
	}
	name := strings.TrimSpace(in.Name)
	if err := checkLabel("client_name", name, MaxAppNameChars); err != nil {
		return AppRegistered{}, err
	}
	website := strings.TrimSpace(in.Website)
	if website != "" {
		if err := checkWebsite(website); err != nil {
			return AppRegistered{}, err
		}
	}
	uris := fields(in.RedirectURIs) // a string may hold several, separated by white space
	if len(uris) == 0 {
		return AppRegistered{}, &FieldError{Field: "redirect_uris", Reason: "must name at least one redirect URI"}
	}
	if len(uris) > MaxRedirectURIs {
		return AppRegistered{}, &FieldError{Field: "redirect_uris", Reason: fmt.Sprintf("at most %d redirect URIs", MaxRedirectURIs)}
	}
	for _, u := range uris {
		if reason := redirectURIProblem(u); reason != "" {
			return AppRegistered{}, &FieldError{Field: "redirect_uris", Reason: reason}
		}
	}
	scopes := NormalizeScopes(in.Scopes)
	if len(scopes) == 0 {
		scopes = []string{DefaultScope}
	}
	for _, sc := range scopes {
		if !KnownScope(sc) {
			return AppRegistered{}, &FieldError{Field: "scopes", Reason: fmt.Sprintf("unknown scope %q", sc)}
		}
	}
	return AppRegistered{ClientID: in.ClientID, Name: name, Website: website, RedirectURIs: uris,
		Scopes: scopes, SecretHash: in.SecretHash}, nil
}

// checkLabel validates a human-readable name: 1 to max characters of
// valid UTF-8 without control characters.
func checkLabel(field, s string, max int) error {
	switch {
	case s == "":
		return &FieldError{Field: field, Reason: "must not be empty"}
	case !utf8.ValidString(s):
		return &FieldError{Field: field, Reason: "must be valid UTF-8"}
	case utf8.RuneCountInString(s) > max:
		return &FieldError{Field: field, Reason: fmt.Sprintf("must be at most %d characters", max)}
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return &FieldError{Field: field, Reason: "must not contain control characters"}
		}
	}
	return nil
}

func checkWebsite(w string) error {
	if len(w) > MaxWebsiteBytes {
		return &FieldError{Field: "website", Reason: fmt.Sprintf("must be at most %d bytes", MaxWebsiteBytes)}
	}
	u, err := url.Parse(w)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &FieldError{Field: "website", Reason: "must be an absolute http or https URL"}
	}
	return nil
}

// redirectURIProblem says what is wrong with a redirect URI, or "" if
// nothing: it must be absolute, without fragment (RFC 6749 §3.1.2), and not
// of a scheme a browser would execute; OOB is allowed.
func redirectURIProblem(raw string) string {
	if raw == OOB {
		return ""
	}
	if len(raw) > MaxRedirectURIBytes {
		return fmt.Sprintf("a redirect URI must be at most %d bytes", MaxRedirectURIBytes)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return fmt.Sprintf("%q is not an absolute URI", raw)
	}
	if strings.Contains(raw, "#") {
		return fmt.Sprintf("%q must not have a fragment", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "data", "vbscript", "file":
		return fmt.Sprintf("%q uses a forbidden scheme", raw)
	case "http", "https":
		if u.Host == "" {
			return fmt.Sprintf("%q has no host", raw)
		}
	}
	return ""
}

// AuthorizationRequest is what a client asks for at the authorization
// endpoint (RFC 6749 §4.1.1, RFC 7636 §4.3).
type AuthorizationRequest struct {
	RedirectURI string
	// Scopes requested; none means DefaultScope.
	Scopes              []string
	CodeChallenge       string
	CodeChallengeMethod string
}

// CheckAuthorization validates an authorization request against the
// application folded into app and returns the scopes to grant. Errors:
// ErrAppNotFound, ErrRedirectURINotRegistered (never redirect to such a
// URI), ErrUnknownScope / ErrScopeNotGranted (ErrInvalidScope), and the PKCE
// errors (ErrInvalidRequest).
func CheckAuthorization(app App, in AuthorizationRequest) ([]string, error) {
	if !app.Exists {
		return nil, ErrAppNotFound
	}
	if !app.RegistersRedirectURI(in.RedirectURI) {
		return nil, ErrRedirectURINotRegistered
	}
	scopes, err := grantable(app, in.Scopes)
	if err != nil {
		return nil, err
	}
	switch {
	case in.CodeChallenge == "" && in.CodeChallengeMethod == "":
	case in.CodeChallenge == "":
		return nil, ErrChallengeMissing
	case in.CodeChallengeMethod != MethodS256:
		// RFC 7636 makes a missing method mean "plain", which is refused.
		return nil, ErrChallengeMethod
	case !ValidChallenge(in.CodeChallenge):
		return nil, ErrChallengeMalformed
	}
	return scopes, nil
}

// grantable normalises requested scopes (none: DefaultScope) and checks
// that each is known and granted by the application's scopes.
func grantable(app App, requested []string) ([]string, error) {
	scopes := NormalizeScopes(requested)
	if len(scopes) == 0 {
		scopes = []string{DefaultScope}
	}
	for _, sc := range scopes {
		if !KnownScope(sc) {
			return nil, fmt.Errorf("%w: %q", ErrUnknownScope, sc)
		}
	}
	if missing, ok := FirstNotGranted(app.Scopes, scopes); !ok {
		return nil, fmt.Errorf("%w: %q", ErrScopeNotGranted, missing)
	}
	return scopes, nil
}

// NewCode is the input of IssueCode; CodeHash and ExpiresAt come from the
// application layer.
type NewCode struct {
	CodeHash  string
	AccountID string
	AuthorizationRequest
	ExpiresAt time.Time
}

// IssueCode decides an authorization code for the account that approved
// the request, on the code stream folded into c.
func IssueCode(app App, c Code, in NewCode) (CodeIssued, error) {
	if c.Exists {
		return CodeIssued{}, ErrCodeExists
	}
	if in.CodeHash == "" || in.AccountID == "" || in.ExpiresAt.IsZero() {
		return CodeIssued{}, &FieldError{Field: "code", Reason: "code hash, account and expiry are required"}
	}
	scopes, err := CheckAuthorization(app, in.AuthorizationRequest)
	if err != nil {
		return CodeIssued{}, err
	}
	return CodeIssued{CodeHash: in.CodeHash, ClientID: app.ClientID, AccountID: in.AccountID,
		RedirectURI: in.RedirectURI, Scopes: scopes, CodeChallenge: in.CodeChallenge,
		CodeChallengeMethod: in.CodeChallengeMethod, ExpiresAt: in.ExpiresAt.UTC()}, nil
}

// Redemption is a token request with grant_type authorization_code by an
// authenticated client; TokenID and TokenHash name the token to issue.
type Redemption struct {
	ClientID     string
	RedirectURI  string
	CodeVerifier string
	Now          time.Time
	TokenID      string
	TokenHash    string
}

// RedeemCode decides the exchange of the code folded into c for an access
// token of the account that approved it: the code's redemption (to append
// with expected revision 0) and the token's issue. Every refusal is
// ErrInvalidGrant.
func RedeemCode(c Code, in Redemption) (CodeRedeemed, TokenIssued, error) {
	switch {
	case !c.Exists:
		return CodeRedeemed{}, TokenIssued{}, ErrCodeNotFound
	case c.Redeemed:
		return CodeRedeemed{}, TokenIssued{}, ErrCodeRedeemed
	case !in.Now.Before(c.ExpiresAt):
		return CodeRedeemed{}, TokenIssued{}, ErrCodeExpired
	case in.ClientID != c.ClientID:
		return CodeRedeemed{}, TokenIssued{}, ErrCodeClientMismatch
	case in.RedirectURI != c.RedirectURI:
		return CodeRedeemed{}, TokenIssued{}, ErrRedirectURIMismatch
	}
	if err := verifyPKCE(c.CodeChallenge, in.CodeVerifier); err != nil {
		return CodeRedeemed{}, TokenIssued{}, err
	}
	if in.TokenID == "" || in.TokenHash == "" {
		return CodeRedeemed{}, TokenIssued{}, &FieldError{Field: "token", Reason: "token id and hash are required"}
	}
	return CodeRedeemed{TokenID: in.TokenID, TokenHash: in.TokenHash},
		TokenIssued{TokenID: in.TokenID, TokenHash: in.TokenHash, ClientID: c.ClientID, AccountID: c.AccountID,
			Scopes: c.Scopes}, nil
}

// verifyPKCE checks a code verifier against the code's S256 challenge
// (RFC 7636 §4.6). A verifier without a challenge is refused too, so that
// a client that uses PKCE notices a request that lost its challenge.
func verifyPKCE(challenge, verifier string) error {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return ErrVerifierUnexpected
	case verifier == "":
		return ErrVerifierMissing
	case !ValidVerifier(verifier):
		return ErrVerifierMalformed
	case !SecretMatches(Hash(S256(verifier)), challenge):
		// Compared in constant time (through the hashes).
		return ErrVerifierMismatch
	}
	return nil
}

// NewToken is the input of the token decisions; TokenID, TokenHash and Now
// come from the application layer.
type NewToken struct {
	TokenID   string
	TokenHash string
	// AccountID is the account the token acts for ("" for an
	// application's own token).
	AccountID string
	// Scopes requested; none means DefaultScope.
	Scopes []string
	// Name labels a personal access token.
	Name      string
	ExpiresAt *time.Time
	Now       time.Time
}

// IssueAppToken decides a token issued to the application folded into
// app: its own (client_credentials, no AccountID) or one acting for an
// account (AccountID set, e.g. right after registration). The scopes must
// be granted by the application's.
func IssueAppToken(app App, t Token, in NewToken) (TokenIssued, error) {
	if !app.Exists {
		return TokenIssued{}, ErrAppNotFound
	}
	scopes, err := grantable(app, in.Scopes)
	if err != nil {
		return TokenIssued{}, err
	}
	if err := checkNewToken(t, in); err != nil {
		return TokenIssued{}, err
	}
	return TokenIssued{TokenID: in.TokenID, TokenHash: in.TokenHash, ClientID: app.ClientID, AccountID: in.AccountID,
		Scopes: scopes, ExpiresAt: utc(in.ExpiresAt)}, nil
}

// IssuePersonalToken decides a personal access token of an account: no
// client, a name, known scopes, an optional expiry in the future.
func IssuePersonalToken(t Token, in NewToken) (TokenIssued, error) {
	if in.AccountID == "" {
		return TokenIssued{}, &FieldError{Field: "account", Reason: "must not be empty"}
	}
	name := strings.TrimSpace(in.Name)
	if err := checkLabel("name", name, MaxTokenNameChars); err != nil {
		return TokenIssued{}, err
	}
	scopes := NormalizeScopes(in.Scopes)
	if len(scopes) == 0 {
		scopes = []string{DefaultScope}
	}
	for _, sc := range scopes {
		if !KnownScope(sc) {
			return TokenIssued{}, &FieldError{Field: "scopes", Reason: fmt.Sprintf("unknown scope %q", sc)}
		}
	}
	if err := checkNewToken(t, in); err != nil {
		return TokenIssued{}, err
	}
	return TokenIssued{TokenID: in.TokenID, TokenHash: in.TokenHash, AccountID: in.AccountID, Scopes: scopes,
		Name: name, ExpiresAt: utc(in.ExpiresAt)}, nil
}

func checkNewToken(t Token, in NewToken) error {
	switch {
	case t.Exists:
		return ErrTokenExists
	case in.TokenID == "" || in.TokenHash == "":
		return &FieldError{Field: "token", Reason: "token id and hash are required"}
	case in.ExpiresAt != nil && !in.ExpiresAt.After(in.Now):
		return &FieldError{Field: "expires_at", Reason: "must be in the future"}
	}
	return nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Revoker is who revokes a token: a client (RFC 7009; only its own
// tokens), an account (only its own tokens), or neither (the instance,
// e.g. on a replayed code).
type Revoker struct {
	ClientID  string
	AccountID string
}

// RevokeToken decides the revocation of the token folded into t.
// ErrTokenNotFound, ErrTokenRevoked (already) or ErrNotTokenOwner.
func RevokeToken(t Token, by Revoker, reason string) (TokenRevoked, error) {
	switch {
	case !t.Exists:
		return TokenRevoked{}, ErrTokenNotFound
	case by.ClientID != "" && by.ClientID != t.ClientID:
		return TokenRevoked{}, ErrNotTokenOwner
	case by.AccountID != "" && by.AccountID != t.AccountID:
		return TokenRevoked{}, ErrNotTokenOwner
	case t.Revoked:
		return TokenRevoked{}, ErrTokenRevoked
	}
	return TokenRevoked{TokenID: t.TokenID, Reason: reason}, nil
}
