package oauth

import (
	"slices"
	"strings"
)

// DefaultScope is what a request that names no scope asks for (as on
// Mastodon).
const DefaultScope = "read"

// Scopes lists every scope Hanse knows: Mastodon's (4.5, with the
// collections scopes), in the order its
// /.well-known/oauth-authorization-server lists them.
var Scopes = []string{
	"read",
	"write",
	"write:accounts", "write:blocks", "write:bookmarks", "write:collections", "write:conversations", "write:favourites",
	"write:filters", "write:follows", "write:lists", "write:media", "write:mutes", "write:notifications",
	"write:reports", "write:statuses",
	"read:accounts", "read:blocks", "read:bookmarks", "read:collections", "read:favourites", "read:filters", "read:follows",
	"read:lists", "read:mutes", "read:notifications", "read:search", "read:statuses",
	"follow",
	"push",
	"profile",
	"admin:read",
	"admin:read:accounts", "admin:read:reports", "admin:read:domain_allows", "admin:read:domain_blocks",
	"admin:read:ip_blocks", "admin:read:email_domain_blocks", "admin:read:canonical_email_blocks",
	"admin:write",
	"admin:write:accounts", "admin:write:reports", "admin:write:domain_allows", "admin:write:domain_blocks",
	"admin:write:ip_blocks", "admin:write:email_domain_blocks", "admin:write:canonical_email_blocks",
}

var knownScopes = func() map[string]bool {
	m := make(map[string]bool, len(Scopes))
	for _, s := range Scopes {
		m[s] = true
	}
	return m
}()

// KnownScope reports whether s is one of Scopes.
func KnownScope(s string) bool { return knownScopes[s] }

// ParseScopes splits a space-separated scope string (RFC 6749 §3.3; any
// white space counts) into its scopes, without duplicates, in order.
func ParseScopes(s string) []string {
	return NormalizeScopes(strings.Fields(s))
}

// NormalizeScopes splits each entry on white space and drops duplicates,
// keeping the first occurrence's order. It returns nil for no scopes.
func NormalizeScopes(in []string) []string { return fields(in) }

// fields splits each of in on white space, without duplicates, in order.
func fields(in []string) []string {
	var out []string
	for _, s := range in {
		for _, f := range strings.Fields(s) {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// Grants reports whether the scopes granted include want. Scopes are
// hierarchical as on Mastodon: "read" grants "read:statuses", "admin:read"
// grants "admin:read:accounts"; the legacy "follow" is granted by itself
// or by "read:follows" and "write:follows" together (hence by "read write").
func Grants(granted []string, want string) bool {
	for _, s := range granted {
		if s == want || strings.HasPrefix(want, s+":") {
			return true
		}
	}
	if want == "follow" {
		return Grants(granted, "read:follows") && Grants(granted, "write:follows")
	}
	return false
}

// FirstNotGranted returns the first of requested that granted does not
// grant, and false; or "", true when all are granted.
func FirstNotGranted(granted, requested []string) (string, bool) {
	for _, s := range requested {
		if !Grants(granted, s) {
			return s, false
		}
	}
	return "", true
}

// JoinScopes renders scopes as the space-separated string OAuth uses.
func JoinScopes(scopes []string) string { return strings.Join(scopes, " ") }
