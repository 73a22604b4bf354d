package inbox

import (
	"context"
	"errors"
	"testing"

	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

// fakeKeys serves one remote actor document; the key it resolves is named
// after the document, so a stale memo would show.
type fakeKeys struct {
	doc      remote.ActorFetched
	err      error
	resolves int
}

func (f *fakeKeys) Actor(context.Context, string) (remote.ActorFetched, error) { return f.doc, f.err }

func (f *fakeKeys) KeyResolver(_ context.Context, keyID string) (httpsig.PublicKey, error) {
	f.resolves++
	if f.err != nil {
		return httpsig.PublicKey{}, f.err
	}
	return httpsig.PublicKey{ID: keyID, Owner: f.doc.IRI, Key: string(f.doc.Raw)}, nil
}
func (f *fakeKeys) RefreshKey(ctx context.Context, id string) (httpsig.PublicKey, error) {
	return f.KeyResolver(ctx, id)
}
func (f *fakeKeys) CachedKey(ctx context.Context, id string) (httpsig.PublicKey, error) {
	return f.KeyResolver(ctx, id)
}

func TestKeyMemo(t *testing.T) {
	const bob = "https://remote.example/users/bob"
	errGone := errors.New("gone")
	scheme := urls.MustNew("https://hanse.example")
	f := &fakeKeys{doc: remote.ActorFetched{IRI: bob, Raw: []byte(`{"v":1}`)}}
	m := newKeyMemo(f, f, scheme)
	ctx := context.Background()
	steps := []struct {
		name     string
		keyID    string
		change   func()
		wantKey  string
		wantErr  error
		resolves int // KeyResolver calls so far
	}{
		{name: "first use parses", keyID: bob + "#main-key", wantKey: `{"v":1}`, resolves: 1},
		{name: "same document: memo", keyID: bob + "#main-key", wantKey: `{"v":1}`, resolves: 1},
		{name: "document changed (rotation): parsed again", keyID: bob + "#main-key",
			change: func() { f.doc.Raw = []byte(`{"v":2}`) }, wantKey: `{"v":2}`, resolves: 2},
		{name: "new document remembered", keyID: bob + "#main-key", wantKey: `{"v":2}`, resolves: 2},
		{name: "actor gone: the resolver's error, not the memo", keyID: bob + "#main-key",
			change: func() { f.err = errGone }, wantErr: errGone, resolves: 2},
		{name: "back: memo again", keyID: bob + "#main-key", change: func() { f.err = nil }, wantKey: `{"v":2}`, resolves: 2},
		{name: "key id without fragment: never memoised", keyID: bob, wantKey: `{"v":2}`, resolves: 3},
		{name: "again without fragment", keyID: bob, wantKey: `{"v":2}`, resolves: 4},
		{name: "local key id: resolver", keyID: "https://hanse.example/users/alice#main-key", wantKey: `{"v":2}`, resolves: 5},
	}
	for _, s := range steps {
		if s.change != nil {
			s.change()
		}
		pk, err := m.resolve(ctx, s.keyID)
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil && pk.Key != s.wantKey) || f.resolves != s.resolves {
			t.Fatalf("%s: key %v err %v resolves %d; want key %s err %v resolves %d",
				s.name, pk.Key, err, f.resolves, s.wantKey, s.wantErr, s.resolves)
		}
	}
}
