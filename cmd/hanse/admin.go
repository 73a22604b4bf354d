package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hanse-network/hanse/internal/config"
)

// Defaults of the admin command.
const (
	// DefaultServerURL is where "hanse admin" looks for the server.
	DefaultServerURL = "http://127.0.0.1:8080"
	// adminTimeout bounds one admin API request.
	adminTimeout = 30 * time.Second
	// maxAdminResponse bounds the response body read.
	maxAdminResponse = 1 << 20
)

const adminDescription = `
Administer a running Hanse server through its admin API (/api/admin),
authenticated with the server's admin token (HANSE_ADMIN_TOKEN).

Subcommands:
  create-actor   create a person, learning community (group) or organization
  rotate-key ID  replace the key pair of the actor with id ID
  delete-actor ID
                 delete the actor with id ID (its documents then answer 410)
` + adminNotesHelp + `
` + adminAccountsHelp + `

Run "hanse admin <subcommand> --help" for details.`

// adminCmd holds the flags every admin subcommand shares.
type adminCmd struct {
	server, token string
	asJSON        bool
	fs            *flag.FlagSet
}

func newAdminCmd(name, synopsis, description string) *adminCmd {
	c := &adminCmd{fs: newFlagSet(name, synopsis, description)}
	config.String(c.fs, &c.server, "server", "HANSE_SERVER_URL", DefaultServerURL,
		"base `URL` of the running Hanse server")
	config.String(c.fs, &c.token, "admin-token", "HANSE_ADMIN_TOKEN", "",
		"the server's admin bearer `token` (prefer the environment variable)")
	config.Bool(c.fs, &c.asJSON, "json", "HANSE_ADMIN_JSON", false, "print the server's JSON answer instead of text")
	return c
}

// parse parses args, accepting one leading positional argument before the
// flags too ("rotate-key ID --json"), checks the shared flags and returns
// the positionals.
func (c *adminCmd) parse(env *cliEnv, args []string) ([]string, error) {
	var lead []string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		lead, args = args[:1], args[1:]
	}
	if err := parseFlags(env, c.fs, args); err != nil {
		return nil, err
	}
	u, err := url.Parse(c.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || strings.Contains(c.server, "#") {
		return nil, &usageError{fs: c.fs, err: fmt.Errorf("--server (HANSE_SERVER_URL) must be an http(s) URL such as %s, got %q", DefaultServerURL, c.server)}
	}
	c.server = strings.TrimRight(c.server, "/")
	if c.token == "" {
		return nil, &usageError{fs: c.fs, err: errors.New("no admin token: set HANSE_ADMIN_TOKEN (or --admin-token) to the token the server runs with")}
	}
	return append(lead, c.fs.Args()...), nil
}

func runAdmin(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		c := newAdminCmd("admin", "<create-actor|rotate-key|delete-actor|post-note|delete-note|create-user|erase-user|set-role> [flags]", adminDescription)
		if err := parseFlags(env, c.fs, args); err != nil {
			return err
		}
		return &usageError{fs: c.fs, err: errors.New("missing subcommand: create-actor, rotate-key, delete-actor, post-note, delete-note, create-user, erase-user or set-role")}
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "create-actor":
		return adminCreateActor(ctx, env, rest)
	case "rotate-key":
		return adminActorWrite(ctx, env, rest, "rotate-key")
	case "delete-actor":
		return adminActorWrite(ctx, env, rest, "delete-actor")
	case "post-note":
		return adminPostNote(ctx, env, rest)
	case "delete-note":
		return adminDeleteNote(ctx, env, rest)
	case "create-user":
		return adminCreateUser(ctx, env, rest)
	case "erase-user":
		return adminEraseUser(ctx, env, rest)
	case "set-role":
		return adminSetRole(ctx, env, rest)
	}
	c := newAdminCmd("admin", "<create-actor|rotate-key|delete-actor|post-note|delete-note|create-user|erase-user|set-role> [flags]", adminDescription)
	return &usageError{fs: c.fs, err: fmt.Errorf("unknown subcommand %q (want create-actor, rotate-key, delete-actor, post-note, delete-note, create-user, erase-user or set-role)", sub)}
}

// adminCreateActorBody mirrors httpapi.CreateActorRequest.
type adminCreateActorBody struct {
	Kind                      string `json:"kind"`
	Username                  string `json:"username"`
	Name                      string `json:"name,omitempty"`
	Summary                   string `json:"summary,omitempty"`
	ManuallyApprovesFollowers bool   `json:"manually_approves_followers"`
	Discoverable              bool   `json:"discoverable"`
}

func adminCreateActor(ctx context.Context, env *cliEnv, args []string) error {
	c := newAdminCmd("admin create-actor", "--username NAME [--kind person|group|organization] [flags]", `
Create a local actor: a person, a learning community (group) or an
organization. It gets an RSA key pair, an ActivityPub IRI and a handle
(username@host) that other servers can follow.`)
	var body adminCreateActorBody
	config.Choice(c.fs, &body.Kind, "kind", "", "person", []string{"person", "group", "organization"},
		"`kind` of actor: person, group (a learning community) or organization")
	config.String(c.fs, &body.Username, "username", "", "", "the actor's `username`, unique on this server (required)")
	config.String(c.fs, &body.Name, "name", "", "", "display `name`")
	config.String(c.fs, &body.Summary, "summary", "", "", "short plain-text `description`")
	config.Bool(c.fs, &body.ManuallyApprovesFollowers, "manually-approves-followers", "", false,
		"follow requests wait for approval")
	config.Bool(c.fs, &body.Discoverable, "discoverable", "", false, "allow other servers to list the actor in directories")
	rest, err := c.parse(env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return &usageError{fs: c.fs, err: fmt.Errorf("unexpected argument %q", rest[0])}
	}
	if strings.TrimSpace(body.Username) == "" {
		return &usageError{fs: c.fs, err: errors.New("--username is required")}
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	raw, err := c.call(ctx, http.MethodPost, "/api/admin/actors", payload, body.Username, "")
	if err != nil {
		return err
	}
	if c.asJSON {
		return writeJSONLine(env.stdout, raw)
	}
	var res struct {
		ID, Kind, Username, IRI, Handle string
		Position                        uint64
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("unexpected answer from the server: %v", err)
	}
	_, err = fmt.Fprintf(env.stdout, "Created %s @%s\n  id:       %s\n  iri:      %s\n  position: %d\n",
		res.Kind, res.Handle, res.ID, res.IRI, res.Position)
	return err
}

func adminActorWrite(ctx context.Context, env *cliEnv, args []string, sub string) error {
	what := map[string]string{
		"rotate-key":   "Replace the key pair of the actor with id ID. Its documents then carry the new\npublic key (key id #key-<n>); the old key stops being valid for its signatures.",
		"delete-actor": "Delete the actor with id ID. Its documents and WebFinger then answer 410 Gone.\nThe username stays reserved.",
	}[sub]
	c := newAdminCmd("admin "+sub, "ID [flags]", what)
	rest, err := c.parse(env, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) == 0 || strings.TrimSpace(rest[0]) == "":
		return &usageError{fs: c.fs, err: errors.New("missing actor id")}
	case len(rest) > 1:
		return &usageError{fs: c.fs, err: fmt.Errorf("unexpected argument %q", rest[1])}
	}
	id := rest[0]
	method, path := http.MethodPost, "/api/admin/actors/"+url.PathEscape(id)+"/rotate-key"
	if sub == "delete-actor" {
		method, path = http.MethodDelete, "/api/admin/actors/"+url.PathEscape(id)
	}
	raw, err := c.call(ctx, method, path, nil, "", id)
	if err != nil {
		return err
	}
	if c.asJSON {
		return writeJSONLine(env.stdout, raw)
	}
	var res struct{ Position uint64 }
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("unexpected answer from the server: %v", err)
	}
	verb := "Rotated the key of"
	if sub == "delete-actor" {
		verb = "Deleted"
	}
	_, err = fmt.Fprintf(env.stdout, "%s actor %s (position %d)\n", verb, id, res.Position)
	return err
}

// call sends one admin API request and returns the 2xx body, or an error
// that says what went wrong and what to do. username and id only make the
// messages precise.
func (c *adminCmd) call(ctx context.Context, method, path string, body []byte, username, id string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner // drop the method and URL url.Error repeats
		}
		return nil, fmt.Errorf("cannot reach the Hanse server at %s: %v\n(is \"hanse serve\" running there? point --server or HANSE_SERVER_URL at it)",
			c.server, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminResponse))
	if err != nil {
		return nil, fmt.Errorf("read the server's answer: %w", err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return raw, nil
	}
	var e struct {
		Error struct{ Code, Message, Field string } `json:"error"`
	}
	msg := strings.TrimSpace(string(raw))
	if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
		msg = e.Error.Message
	} else if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return nil, fmt.Errorf("the server refused the admin token (401 Unauthorized): set HANSE_ADMIN_TOKEN (or --admin-token) to the token the server was started with")
	case http.StatusForbidden:
		return nil, fmt.Errorf("the server's admin API is disabled (403 Forbidden): start \"hanse serve\" with HANSE_ADMIN_TOKEN set, and set the same token here")
	case http.StatusConflict:
		if username != "" {
			return nil, fmt.Errorf("username %q is taken (409 Conflict): choose another --username", username)
		}
	case http.StatusUnprocessableEntity:
		if e.Error.Field != "" {
			return nil, fmt.Errorf("invalid --%s: %s", strings.ReplaceAll(e.Error.Field, "_", "-"), msg)
		}
	case http.StatusNotFound:
		if id != "" && e.Error.Code == "not_found" {
			return nil, fmt.Errorf("no actor with id %q (404 Not Found)", id)
		}
	case http.StatusGone:
		if id != "" {
			return nil, fmt.Errorf("actor %q has been deleted (410 Gone)", id)
		}
	}
	return nil, fmt.Errorf("the server answered %s: %s", resp.Status, msg)
}

// writeJSONLine writes a JSON document compactly on one line.
func writeJSONLine(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return fmt.Errorf("unexpected answer from the server: %v", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}
