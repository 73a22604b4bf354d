package inbox_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hanse-network/hanse/federation/inbox"
)

// BenchmarkInboxIngest POSTs signed Create{Note} activities over loopback
// from parallel clients into a real inbox and store. Requests are signed
// before the timer starts (signing costs far more than verifying). It
// reports accepted activities/s and their ratio to RSA-2048 verifications/s
// × GOMAXPROCS measured in the same run.
func BenchmarkInboxIngest(b *testing.B) {
	p := newPeer(b)
	p.set("bob", keys[0], false)
	h := newHanse(b, hanseOptions{inbox: inbox.Options{Rate: -1}})
	bob := p.iri("bob")
	s := signer(p, "bob", keys[0])

	type signed struct {
		body    []byte
		headers http.Header
	}
	reqs := make([]signed, b.N)
	for i := range reqs {
		id := fmt.Sprintf("%s/statuses/%d-%d", bob, time.Now().UnixNano(), i)
		body := activity("Create", id+"/activity", bob, map[string]any{"id": id, "type": "Note", "attributedTo": bob,
			"content": "<p>Moin moin from the benchmark</p>", "to": []string{"https://www.w3.org/ns/activitystreams#Public"}})
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/inbox", bytes.NewReader(body))
		req.Header.Set("Content-Type", activityJSON)
		if err := s.SignRequest(req, body); err != nil {
			b.Fatal(err)
		}
		reqs[i] = signed{body, req.Header}
	}
	// Warm the key cache so that the fetch is not measured.
	if status, resp := post(b, h.srv.URL+"/inbox", activityJSON, activity("Like", bob+"/warm", bob, bob), s); status != 202 {
		b.Fatalf("warm-up: %d %s", status, resp)
	}
	verifyPerSec := rsaVerifyRate(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	var next, accepted atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := reqs[next.Add(1)-1]
			req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/inbox", bytes.NewReader(r.body))
			req.Header = r.headers.Clone()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusAccepted {
				accepted.Add(1)
			} else {
				b.Errorf("status %d", resp.StatusCode)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	perSec := float64(accepted.Load()) / elapsed.Seconds()
	b.ReportMetric(perSec, "accepted/s")
	b.ReportMetric(verifyPerSec, "rsa-verify/s/core")
	b.ReportMetric(perSec/(verifyPerSec*float64(runtime.GOMAXPROCS(0))), "ratio")
}

// rsaVerifyRate measures RSA-2048 PKCS#1 v1.5 SHA-256 verifications per
// second on one goroutine.
func rsaVerifyRate(b *testing.B) float64 {
	digest := sha256.Sum256([]byte("benchmark"))
	sig, err := rsa.SignPKCS1v15(nil, keys[0], crypto.SHA256, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	const n = 2000
	start := time.Now()
	for range n {
		if err := rsa.VerifyPKCS1v15(&keys[0].PublicKey, crypto.SHA256, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
	return n / time.Since(start).Seconds()
}
