package inbox_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/inbox"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

// fixedKeys answers every key id with the public key of keys[0].
type fixedKeys struct{}

func (fixedKeys) KeyResolver(_ context.Context, keyID string) (httpsig.PublicKey, error) {
	return httpsig.PublicKey{ID: keyID, Owner: "https://remote.example/users/bob", Key: &keys[0].PublicKey}, nil
}
func (k fixedKeys) RefreshKey(ctx context.Context, keyID string) (httpsig.PublicKey, error) {
	return k.KeyResolver(ctx, keyID)
}
func (k fixedKeys) CachedKey(ctx context.Context, keyID string) (httpsig.PublicKey, error) {
	return k.KeyResolver(ctx, keyID)
}

type countingRecorder struct{ n atomic.Int64 }

func (c *countingRecorder) RecordActivity(context.Context, remote.ActivityReceived) (events.Position, bool, error) {
	c.n.Add(1)
	return 1, false, nil
}

// FuzzInbox: random bodies and headers never panic, and nothing reaches
// 2xx or the recorder without a valid signature. The seeds are signed with
// keys[1] while the resolver knows only keys[0], so no input is validly
// signed.
func FuzzInbox(f *testing.F) {
	const base = "https://hanse.example"
	body := activity("Create", "https://remote.example/users/bob/statuses/1", "https://remote.example/users/bob",
		map[string]any{"type": "Note", "content": "hi"})
	req := httptest.NewRequest(http.MethodPost, base+"/inbox", bytes.NewReader(body))
	req.Header.Set("Content-Type", activityJSON)
	s := httpsig.Signer{KeyID: "https://remote.example/users/bob#main-key", Key: keys[1]}
	if err := s.SignRequest(req, body); err != nil {
		f.Fatal(err)
	}
	f.Add(body, activityJSON, req.Header.Get("Signature"), req.Header.Get("Digest"), req.Header.Get("Date"), "/inbox")
	f.Add([]byte(`{}`), "application/ld+json; profile=x", `keyId="a",signature="b"`, "SHA-256=AAAA", "", "/users/alice/inbox")
	f.Add([]byte(`[`), "application/json", "", "", "", "/users/%zz/inbox")
	rec := &countingRecorder{}
	h := inbox.New(urls.MustNew(base), directory, fixedKeys{}, rec, inbox.Options{Rate: -1})
	f.Fuzz(func(t *testing.T, body []byte, ctype, sig, digest, date, path string) {
		req, err := http.NewRequest(http.MethodPost, base+"/inbox", bytes.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.URL.Path = path
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Signature", sig)
		req.Header.Set("Digest", digest)
		req.Header.Set("Date", date)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 200 && w.Code < 300 {
			t.Fatalf("status %d without a valid signature", w.Code)
		}
		if rec.n.Load() != 0 {
			t.Fatal("an unverified activity was recorded")
		}
	})
}
