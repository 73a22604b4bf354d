package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// activityJSON is the ActivityPub media type.
const activityJSON = "application/activity+json"

// maxResponse bounds the response bodies the tool reads.
const maxResponse = 1 << 20

// hanseAPI talks to the Hanse server under test.
type hanseAPI struct {
	base   *url.URL
	token  string
	client *http.Client
}

// group is the local Group a run creates.
type group struct {
	ID, IRI, Inbox, Followers string
	Position                  uint64
}

// StatusError is a response the tool did not expect.
type StatusError struct {
	Method, URL string
	Status      int
	Body        string
	// RetryAfter is the answer's Retry-After in seconds (0: none).
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, strings.TrimSpace(e.Body))
}

// local maps an IRI of the server onto the target base URL (same path),
// so that every request goes to the target even when the server's public
// URL names another host.
func (h *hanseAPI) local(iri string) (string, error) {
	u, err := url.Parse(iri)
	if err != nil || u.Path == "" {
		return "", fmt.Errorf("server IRI %q is not a URL with a path", iri)
	}
	return h.base.Scheme + "://" + h.base.Host + u.EscapedPath(), nil
}

// do sends a request and decodes a 2xx JSON answer into out.
func (h *hanseAPI) do(ctx context.Context, method, target string, header http.Header, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, r)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, target, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return &StatusError{Method: method, URL: target, Status: res.StatusCode, Body: string(raw),
			RetryAfter: retryAfterOf(res.Header)}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, target, err)
		}
	}
	return nil
}

func (h *hanseAPI) admin(ctx context.Context, method, path string, body, out any) error {
	hdr := http.Header{"Authorization": {"Bearer " + h.token}}
	return h.do(ctx, method, h.base.String()+"/api/admin"+path, hdr, body, out)
}

// createGroup creates a Group named username and reads its actor
// document once the server serves it.
func (h *hanseAPI) createGroup(ctx context.Context, username string) (group, error) {
	var created struct {
		ID, IRI  string
		Position uint64
	}
	if err := h.admin(ctx, http.MethodPost, "/actors", map[string]any{"kind": "group", "username": username,
		"name": "hanse-load " + username}, &created); err != nil {
		return group{}, fmt.Errorf("create group: %w", err)
	}
	if created.ID == "" || created.IRI == "" {
		return group{}, fmt.Errorf("create group: answer without id or iri")
	}
	doc, err := h.local(created.IRI)
	if err != nil {
		return group{}, err
	}
	var actor struct{ ID, Inbox, Followers string }
	hdr := http.Header{"Accept": {activityJSON}, "Hanse-Min-Position": {strconv.FormatUint(created.Position, 10)}}
	if err := h.do(ctx, http.MethodGet, doc, hdr, nil, &actor); err != nil {
		return group{}, fmt.Errorf("read group document: %w", err)
	}
	if actor.ID != created.IRI || actor.Inbox == "" || actor.Followers == "" {
		return group{}, fmt.Errorf("group document %s: id %q, inbox %q, followers %q", doc, actor.ID, actor.Inbox, actor.Followers)
	}
	return group{ID: created.ID, IRI: created.IRI, Inbox: actor.Inbox, Followers: actor.Followers, Position: created.Position}, nil
}

// followersTotal reads totalItems of a followers collection.
func (h *hanseAPI) followersTotal(ctx context.Context, collection string) (int, error) {
	target, err := h.local(collection)
	if err != nil {
		return 0, err
	}
	var c struct {
		TotalItems *int `json:"totalItems"`
	}
	if err := h.do(ctx, http.MethodGet, target, http.Header{"Accept": {activityJSON}}, nil, &c); err != nil {
		return 0, err
	}
	if c.TotalItems == nil {
		return 0, fmt.Errorf("%s has no totalItems", target)
	}
	return *c.TotalItems, nil
}

// postNote publishes a public note by the local actor id.
func (h *hanseAPI) postNote(ctx context.Context, actorID, content string) (string, error) {
	var posted struct{ ID string }
	if err := h.admin(ctx, http.MethodPost, "/actors/"+url.PathEscape(actorID)+"/notes",
		map[string]any{"content": content, "language": "en", "visibility": "public"}, &posted); err != nil {
		return "", fmt.Errorf("publish note: %w", err)
	}
	return posted.ID, nil
}

// retryAfterOf reads a Retry-After header in whole seconds (0: none or
// not a number of seconds).
func retryAfterOf(h http.Header) time.Duration {
	secs, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || secs <= 0 {
		return 0
	}
	return time.Duration(secs) * time.Second
}
