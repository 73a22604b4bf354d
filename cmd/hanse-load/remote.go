package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hanse-network/hanse/federation/httpsig"
)

// remoteActor is one fake remote Person.
type remoteActor struct {
	index       int
	name        string
	iri, keyID  string
	inbox       string
	key         *rsa.PrivateKey
	doc         []byte
	signer      httpsig.Signer
	server      *remoteServer
	sentFollows int
}

// inboxFunc handles a POST to a fake actor's inbox.
type inboxFunc func(a *remoteActor, w http.ResponseWriter, r *http.Request)

// remoteServer is a fake remote ActivityPub server on loopback: it serves
// the actor documents of its Persons at /users/{name} (with an RSA-2048
// publicKey, no shared inbox) and their inboxes at /users/{name}/inbox.
type remoteServer struct {
	ln     net.Listener
	srv    *http.Server
	base   string
	actors map[string]*remoteActor // by name; complete before serving
	inbox  inboxFunc
	gets   atomic.Int64
	done   chan struct{}
}

// newRemoteServer listens on a free loopback port; add actors, then start.
func newRemoteServer(ctx context.Context, inbox inboxFunc) (*remoteServer, error) {
	ln, err := listenLoopback(ctx)
	if err != nil {
		return nil, fmt.Errorf("fake remote server: %w", err)
	}
	s := &remoteServer{ln: ln, base: "http://" + ln.Addr().String(), actors: map[string]*remoteActor{}, inbox: inbox, done: make(chan struct{})}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// add creates a Person named name with key; call it before start.
func (s *remoteServer) add(index int, name string, key *rsa.PrivateKey) (*remoteActor, error) {
	iri := s.base + "/users/" + name
	a := &remoteActor{index: index, name: name, iri: iri, keyID: iri + "#main-key", inbox: iri + "/inbox", key: key, server: s}
	pemText, err := httpsig.EncodePublicKeyPEM(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	a.doc, err = json.Marshal(map[string]any{
		"@context":          []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":                iri,
		"type":              "Person",
		"preferredUsername": name,
		"name":              "hanse-load " + name,
		"inbox":             a.inbox,
		"outbox":            iri + "/outbox",
		"followers":         iri + "/followers",
		"following":         iri + "/following",
		"url":               s.base + "/@" + name,
		"publicKey":         map[string]any{"id": a.keyID, "owner": iri, "publicKeyPem": pemText},
	})
	if err != nil {
		return nil, err
	}
	a.signer = httpsig.Signer{KeyID: a.keyID, Key: key}
	s.actors[name] = a
	return a, nil
}

// start serves until close.
func (s *remoteServer) start() {
	go func() {
		_ = s.srv.Serve(s.ln)
		close(s.done)
	}()
}

func (s *remoteServer) close() {
	_ = s.srv.Close()
	<-s.done
}

func (s *remoteServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/users/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	name, sub, _ := strings.Cut(rest, "/")
	a := s.actors[name]
	switch {
	case a == nil:
		http.NotFound(w, r)
	case sub == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.gets.Add(1)
		w.Header().Set("Content-Type", activityJSON)
		_, _ = w.Write(a.doc)
	case sub == "inbox" && r.Method == http.MethodPost && s.inbox != nil:
		s.inbox(a, w, r)
	default:
		http.NotFound(w, r)
	}
}

// signedRequest is a request signed ahead of sending.
type signedRequest struct {
	url    string
	body   []byte
	header http.Header
}

// sign signs a POST of body to target by actor a.
func (a *remoteActor) sign(target string, body []byte) (signedRequest, error) {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return signedRequest{}, err
	}
	req.Header.Set("Content-Type", activityJSON)
	if err := a.signer.SignRequest(req, body); err != nil {
		return signedRequest{}, err
	}
	return signedRequest{url: target, body: body, header: req.Header}, nil
}

// send posts a signed request and returns the status code and, for a
// refusal, the start of the body; Retry-After is returned for 429 and 503.
func (sr signedRequest) send(ctx context.Context, client *http.Client) (status int, retryAfter time.Duration, msg string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sr.url, bytes.NewReader(sr.body))
	if err != nil {
		return 0, 0, "", err
	}
	req.Header = sr.header.Clone()
	res, err := client.Do(req)
	if err != nil {
		return 0, 0, "", err
	}
	defer res.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxResponse)) // keep the connection reusable
	if res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable {
		retryAfter = retryAfterOf(res.Header)
	}
	return res.StatusCode, retryAfter, string(head), nil
}

// keyPool generates n RSA-2048 keys in parallel. Fake actors share keys
// from a small pool: generating a key per actor would take minutes, and a
// key's cost for the server is the same either way.
func keyPool(ctx context.Context, n int) ([]*rsa.PrivateKey, error) {
	keys := make([]*rsa.PrivateKey, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() { keys[i], errs[i] = httpsig.GenerateRSAKey() })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return keys, errors.Join(errs...)
}
