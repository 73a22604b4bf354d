package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/hanse-network/hanse/internal/config"
)

// adminAccountsHelp is the part of "hanse admin"'s subcommand list about
// accounts.
const adminAccountsHelp = `  create-user    create an account (--username U --email E [--role R]);
                 prints the generated password unless --password-stdin
  erase-user     erase an account and its personal data (--username U | --id ID) --yes
  set-role       change an account's role (--username U | --id ID) --role R`

// accountRoles are the roles an account may have.
var accountRoles = []string{"learner", "facilitator", "institution_admin", "instance_admin"}

// adminCreateUserBody mirrors httpapi.CreateAccountRequest.
type adminCreateUserBody struct {
	Username    string `json:"username"`
	Email       string `json:"email"`
	Password    string `json:"password,omitempty"`
	Role        string `json:"role,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	Locale      string `json:"locale,omitempty"`
}

// adminCreateUser is "hanse admin create-user": POST /api/admin/accounts.
func adminCreateUser(ctx context.Context, env *cliEnv, args []string) error {
	c := newAdminCmd("admin create-user", "--username NAME --email ADDRESS [--role ROLE] [--password-stdin] [flags]", `
Create an account: a person who signs in to this server, with a Person
actor (username@host) that other servers can follow. Without
--password-stdin a strong password is generated and printed once: pass it
on safely. Passwords have 10 to 128 characters.`)
	var body adminCreateUserBody
	var fromStdin bool
	config.String(c.fs, &body.Username, "username", "", "", "the account's `username`: a-z, 0-9 and _, up to 30 (required)")
	config.String(c.fs, &body.Email, "email", "", "", "the account's e-mail `address` (required; one account per address)")
	config.Choice(c.fs, &body.Role, "role", "", "learner", accountRoles,
		"`role`: learner, facilitator (runs communities), institution_admin or instance_admin")
	config.String(c.fs, &body.DisplayName, "display-name", "", "", "display `name` shown on the profile")
	config.String(c.fs, &body.Locale, "locale", "", "", "preferred language, a BCP 47 `tag` such as de or pt-BR")
	config.Bool(c.fs, &fromStdin, "password-stdin", "", false, "read the password from the first line of standard input")
	rest, err := c.parse(env, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return &usageError{fs: c.fs, err: fmt.Errorf("unexpected argument %q", rest[0])}
	case strings.TrimSpace(body.Username) == "":
		return &usageError{fs: c.fs, err: errors.New("--username is required")}
	case strings.TrimSpace(body.Email) == "":
		return &usageError{fs: c.fs, err: errors.New("--email is required")}
	}
	if fromStdin {
		if body.Password, err = readPasswordLine(env); err != nil {
			return &usageError{fs: c.fs, err: err}
		}
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	raw, err := c.call(ctx, http.MethodPost, "/api/admin/accounts", payload, "", "")
	if err != nil {
		return err
	}
	if c.asJSON {
		return writeJSONLine(env.stdout, raw)
	}
	var res struct {
		ID, Username, Role, Password string
		Position                     uint64
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("unexpected answer from the server: %v", err)
	}
	out := fmt.Sprintf("Created account @%s (%s)\n  id:       %s\n  position: %d\n", res.Username, res.Role, res.ID, res.Position)
	if res.Password != "" {
		out += fmt.Sprintf("  password: %s\n(shown once: pass it on safely; it can be changed after signing in)\n", res.Password)
	}
	_, err = io.WriteString(env.stdout, out)
	return err
}

// readPasswordLine reads the first line of standard input.
func readPasswordLine(env *cliEnv) (string, error) {
	in := env.stdin
	if in == nil {
		in = os.Stdin
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("--password-stdin: standard input holds no password")
	}
	return line, nil
}

// accountTarget is the account an admin command acts on: --id, or
// --username looked up through GET /api/admin/accounts?username=.
type accountTarget struct{ id, username string }

func (t *accountTarget) register(c *adminCmd) {
	config.String(c.fs, &t.id, "id", "", "", "the account's `id`")
	config.String(c.fs, &t.username, "username", "", "", "the account's `username` (instead of --id)")
}

// check refuses a missing or doubled target (a usage error).
func (t *accountTarget) check(c *adminCmd) error {
	switch {
	case strings.TrimSpace(t.id) != "" && strings.TrimSpace(t.username) != "":
		return &usageError{fs: c.fs, err: errors.New("give either --id or --username, not both")}
	case strings.TrimSpace(t.id) == "" && strings.TrimSpace(t.username) == "":
		return &usageError{fs: c.fs, err: errors.New("--username or --id is required")}
	}
	return nil
}

// resolve returns the account id (after check).
func (t *accountTarget) resolve(ctx context.Context, c *adminCmd) (string, error) {
	if t.id != "" {
		return t.id, nil
	}
	raw, err := c.call(ctx, http.MethodGet, "/api/admin/accounts?username="+url.QueryEscape(strings.TrimPrefix(t.username, "@")), nil, "", "")
	if err != nil {
		return "", err
	}
	var page struct {
		Items []struct{ ID string }
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return "", fmt.Errorf("unexpected answer from the server: %v", err)
	}
	if len(page.Items) == 0 {
		return "", fmt.Errorf("no account with username %q", t.username)
	}
	return page.Items[0].ID, nil
}

// adminEraseUser is "hanse admin erase-user": POST
// /api/admin/accounts/{id}/erase.
func adminEraseUser(ctx context.Context, env *cliEnv, args []string) error {
	c := newAdminCmd("admin erase-user", "(--username NAME | --id ID) --yes [flags]", `
Erase an account for ever: its personal-data key is destroyed (every name,
bio, e-mail address and post text of the person in the event log becomes
unreadable), read models forget the person, the Person actor is deleted
(other servers are sent a Delete) and stored media are removed. The
username stays reserved. This cannot be undone, hence --yes.

If a clean-up step fails, the erasure is still recorded; run the command
again to complete it.`)
	var target accountTarget
	var yes bool
	target.register(c)
	config.Bool(c.fs, &yes, "yes", "", false, "confirm the erasure (required)")
	rest, err := c.parse(env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return &usageError{fs: c.fs, err: fmt.Errorf("unexpected argument %q", rest[0])}
	}
	if err := target.check(c); err != nil {
		return err
	}
	if !yes {
		return &usageError{fs: c.fs, err: errors.New("erasure cannot be undone: add --yes to confirm")}
	}
	id, err := target.resolve(ctx, c)
	if err != nil {
		return err
	}
	raw, err := c.call(ctx, http.MethodPost, "/api/admin/accounts/"+url.PathEscape(id)+"/erase", nil, "", "")
	if err != nil {
		return err
	}
	if c.asJSON {
		if err := writeJSONLine(env.stdout, raw); err != nil {
			return err
		}
	}
	var res struct {
		Position uint64
		Complete bool
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("unexpected answer from the server: %v", err)
	}
	if !res.Complete { // 202: recorded, a step left
		return fmt.Errorf("the erasure of account %s is recorded (position %d) but a clean-up step failed (see the server log): run this command again to complete it", id, res.Position)
	}
	if c.asJSON {
		return nil
	}
	_, err = fmt.Fprintf(env.stdout, "Erased account %s (position %d)\n", id, res.Position)
	return err
}

// adminSetRole is "hanse admin set-role": POST
// /api/admin/accounts/{id}/role.
func adminSetRole(ctx context.Context, env *cliEnv, args []string) error {
	c := newAdminCmd("admin set-role", "(--username NAME | --id ID) --role ROLE [flags]", `
Change an account's role: learner (joins communities and posts),
facilitator (also creates and runs communities), institution_admin (also
moderates every community) or instance_admin (administers the server).`)
	var target accountTarget
	var role string
	target.register(c)
	config.Choice(c.fs, &role, "role", "", "", accountRoles, "the new `role` (required): "+strings.Join(accountRoles, ", "))
	rest, err := c.parse(env, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return &usageError{fs: c.fs, err: fmt.Errorf("unexpected argument %q", rest[0])}
	case role == "":
		return &usageError{fs: c.fs, err: errors.New("--role is required")}
	}
	if err := target.check(c); err != nil {
		return err
	}
	id, err := target.resolve(ctx, c)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(map[string]string{"role": role})
	if err != nil {
		return err
	}
	raw, err := c.call(ctx, http.MethodPost, "/api/admin/accounts/"+url.PathEscape(id)+"/role", payload, "", "")
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
	_, err = fmt.Fprintf(env.stdout, "Account %s is now %s (position %d)\n", id, role, res.Position)
	return err
}
