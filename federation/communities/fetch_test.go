package communities_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/federation/communities"
	"github.com/hanse-network/hanse/federation/fetch"
	"github.com/hanse-network/hanse/federation/httpsig"
)

func TestFetcher(t *testing.T) {
	var signed bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		signed = r.Header.Get("Signature") != ""
		if r.URL.Path == "/html" {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<p>no</p>"))
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		_, _ = w.Write([]byte(`{"id":"x","type":"Note"}`))
	}))
	defer srv.Close()
	allow, err := fetch.ParseAllowList("127.0.0.0/8,::1/128")
	if err != nil {
		t.Fatal(err)
	}
	key, err := httpsig.GenerateRSAKey()
	if err != nil {
		t.Fatal(err)
	}
	f := communities.Fetcher{Client: fetch.New(fetch.Options{Guard: &fetch.Guard{Allow: allow}}),
		Signer: func(context.Context) (httpsig.Signer, error) {
			return httpsig.Signer{KeyID: "https://hanse.example/actor#main-key", Key: key}, nil
		}}
	body, err := f.FetchObject(context.Background(), srv.URL+"/note")
	if err != nil || !strings.Contains(string(body), `"Note"`) || !signed {
		t.Fatalf("fetch: %s, %v (signed %v)", body, err, signed)
	}
	if _, err := f.FetchObject(context.Background(), srv.URL+"/html"); err == nil {
		t.Fatal("an HTML answer was accepted")
	}
	guarded := communities.Fetcher{Client: fetch.New(fetch.Options{})}
	if _, err := guarded.FetchObject(context.Background(), srv.URL+"/note"); err == nil {
		t.Fatal("a loopback address was fetched without the allow-list")
	}
}
