package peertest

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// localActor is Hanse's answer to POST /api/admin/actors.
type localActor struct {
	ID       string `json:"id"`
	IRI      string `json:"iri"`
	Handle   string `json:"handle"`
	Position uint64 `json:"position"`
}

// createActor creates a local actor and waits until Hanse serves it.
func createActor(t *testing.T, h *hanse, kind, username, name string) localActor {
	t.Helper()
	var a localActor
	if s := h.admin(t, "POST", "/actors", map[string]any{"kind": kind, "username": username, "name": name}, &a); s != http.StatusCreated {
		t.Fatalf("create %s %s: %d", kind, username, s)
	}
	// Read-your-writes: Hanse answers once its read model reached the write.
	req, err := http.NewRequest("GET", a.IRI, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/activity+json")
	req.Header.Set("Hanse-Min-Position", strconv.FormatUint(a.Position, 10))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s at position %d: %d", a.IRI, a.Position, res.StatusCode)
	}
	return a
}

// TestFedifyPeerFederatesWithHanse runs Hanse and a Fedify peer as real
// processes on loopback: the peer follows a Hanse Group through WebFinger
// and is accepted, receives the Group's note, and a Hanse Person follows
// the peer back and is accepted — with HTTP signatures made and checked by
// each side's own implementation.
func TestFedifyPeerFederatesWithHanse(t *testing.T) {
	h := startHanse(t)
	bees := createActor(t, h, "group", "bees", "Beekeeping circle")
	alice := createActor(t, h, "person", "alice", "Alice")
	p := startPeer(t)

	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		var deliveries any
		h.admin(t, "GET", "/deliveries?limit=100", nil, &deliveries)
		t.Logf("Hanse deliveries: %v", deliveries)
		t.Logf("peer exchanges: %+v", p.exchanges(t))
	})

	// 1. The peer follows the Group; Hanse accepts and lists it.
	var follow struct{ Actor, Follow string }
	if s := p.control(t, "POST", "/follow", map[string]string{"handle": bees.Handle}, &follow); s != http.StatusAccepted {
		t.Fatalf("peer follows %s: %d", bees.Handle, s)
	}
	if follow.Actor != bees.IRI {
		t.Errorf("peer resolved %s to %q, want %q", bees.Handle, follow.Actor, bees.IRI)
	}
	if !eventually(t, "Hanse lists the peer among the Group's followers", func() bool {
		return h.collectionHas(t, bees.IRI+"/followers", p.actor())
	}, h.Exited, p.Exited) {
		t.FailNow() // nothing below can work without the follow
	}
	eventually(t, "the peer receives the Group's Accept of its Follow", func() bool {
		for _, a := range p.inbox(t) {
			if a.Type == "Accept" && a.Actor == bees.IRI && a.Object == follow.Follow {
				return true
			}
		}
		return false
	}, p.Exited)
	var following map[string]string
	p.control(t, "GET", "/following", nil, &following)
	if following[bees.IRI] != "accepted" {
		t.Errorf("peer's follow of %s is %q, want accepted", bees.IRI, following[bees.IRI])
	}

	// 2. The Group publishes a note; the peer receives Create{Note}.
	const content = "Hive inspection on Saturday — bring gloves & veils"
	if s := h.admin(t, "POST", "/actors/"+bees.ID+"/notes", map[string]any{"content": content, "language": "en"}, nil); s != http.StatusCreated {
		t.Fatalf("publish note: %d", s)
	}
	eventually(t, "the peer receives Create{Note} with the note's content", func() bool {
		for _, a := range p.inbox(t) {
			if a.Type == "Create" && a.Actor == bees.IRI && a.ObjectType == "Note" &&
				strings.Contains(a.Content, "Hive inspection on Saturday") &&
				strings.Contains(a.Content, "bring gloves &amp; veils") {
				return true
			}
		}
		return false
	}, p.Exited)

	// 3. A Hanse Person follows the peer; the peer accepts and Hanse
	// records the Accept.
	target := "peer@" + p.host
	if s := h.admin(t, "POST", "/actors/"+alice.ID+"/following", map[string]any{"target": target}, nil); s != http.StatusCreated && s != http.StatusOK {
		t.Fatalf("alice follows %s: %d", target, s)
	}
	eventually(t, "the peer lists alice among its followers", func() bool {
		var followers []string
		p.control(t, "GET", "/followers", nil, &followers)
		for _, f := range followers {
			if f == alice.IRI {
				return true
			}
		}
		return false
	}, p.Exited)
	eventually(t, "Hanse lists the peer in alice's following (the peer's Accept arrived)", func() bool {
		return h.collectionHas(t, alice.IRI+"/following", p.actor())
	}, h.Exited, p.Exited)

	// 4. Every delivery Hanse made to the peer succeeded: Accept, Create, Follow.
	eventually(t, "Hanse's deliveries to the peer are all delivered", func() bool {
		var page struct {
			Items []struct {
				ActivityType string `json:"activity_type"`
				Inbox        string `json:"inbox"`
				State        string `json:"state"`
			} `json:"items"`
		}
		if h.admin(t, "GET", "/deliveries?limit=100", nil, &page) != http.StatusOK {
			return false
		}
		delivered := map[string]bool{}
		for _, d := range page.Items {
			if !strings.HasPrefix(d.Inbox, p.base+"/") {
				continue
			}
			if d.State != "delivered" {
				return false
			}
			delivered[d.ActivityType] = true
		}
		return delivered["Accept"] && delivered["Create"] && delivered["Follow"]
	}, h.Exited)

	// 5. Signatures in both directions. Fedify signs with RFC 9421 first
	// and retries with draft-cavage only after a 401, so every POST to
	// Hanse must have been accepted at the first knock; Hanse signs with
	// draft-cavage, which Fedify must accept.
	checkExchanges(t, p.exchanges(t), h.Base, p.base)
}

// checkExchanges checks the peer's record of inbox POSTs in both directions.
func checkExchanges(t *testing.T, ex []exchange, hanseBase, peerBase string) {
	t.Helper()
	tests := []struct {
		name      string
		dir       string
		urlPrefix string
		wantSig   string
	}{
		{"peer → Hanse inbox POSTs", "out", hanseBase + "/", "rfc9421"},
		{"Hanse → peer inbox POSTs", "in", peerBase + "/", "draft-cavage"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			for _, e := range ex {
				if e.Dir != tc.dir || e.Method != "POST" || !strings.HasPrefix(e.URL, tc.urlPrefix) || !strings.HasSuffix(e.URL, "/inbox") {
					continue
				}
				n++
				t.Logf("%s %s signed %s → %v", e.Method, e.URL, e.Sig, e.Status)
				if e.Sig != tc.wantSig {
					t.Errorf("POST %s signed with %s, want %s", e.URL, e.Sig, tc.wantSig)
				}
				if code, ok := e.Status.(float64); !ok || code != http.StatusAccepted && code != http.StatusOK {
					t.Errorf("POST %s (%s) answered %v, want 202", e.URL, e.Sig, e.Status)
				}
			}
			if n == 0 {
				t.Errorf("no inbox POSTs recorded")
			}
		})
	}
}
