package delivery_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/hanse-network/hanse/federation/delivery"
)

// BenchmarkFanout delivers one Create to 1,000 distinct inboxes served by
// one loopback receiver that verifies every signature, and compares the
// rate of signed deliveries with the RSA-2048 signing limit of this
// machine (single-core signatures/s × GOMAXPROCS) measured in the same run.
func BenchmarkFanout(b *testing.B) {
	const inboxes = 1000
	t := &testing.T{}
	e := newEnv(t)
	e.t = t
	r := newReceiver(t, key(b), statuses(http.StatusAccepted))
	defer r.srv.Close()
	body := make([]byte, 1500) // a typical Create{Note}
	for i := range body {
		body[i] = 'x'
	}
	w := delivery.New(e.db, signers{key(b)}, e.cl, delivery.Options{PollInterval: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done; e.db.Close() }()

	b.ResetTimer()
	start := time.Now()
	for n := range b.N {
		b.StopTimer()
		activity := fmt.Sprintf("https://hanse.example/users/alice/notes/%d/activity", n)
		if err := e.db.Write(ctx, func(tx *sql.Tx) error {
			for i := range inboxes {
				if _, err := delivery.Insert(ctx, tx, delivery.Record{ActivityID: activity, ActivityType: "Create",
					Inbox: fmt.Sprintf("%s/users/u%d/inbox", r.srv.URL, i), ActorID: "alice", Body: body,
					EventPosition: uint64(n), CreatedAt: t0}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		w.Notify()
		want := (n + 1) * inboxes
		for {
			s := w.Stats()
			if int(s.Attempts[delivery.OutcomeDelivered]) >= want {
				break
			}
			if s.Attempts[delivery.OutcomeFailed]+s.Attempts[delivery.OutcomeRetry] > 0 {
				b.Fatalf("failed attempts: %+v", s)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if r.bad.Load() != 0 || r.calls.Load() != int64(b.N*inboxes) {
		b.Fatalf("%d POSTs (%d unverified), want %d", r.calls.Load(), r.bad.Load(), b.N*inboxes)
	}
	rate := float64(b.N*inboxes) / elapsed.Seconds()
	limit := signRate(b) * float64(runtime.GOMAXPROCS(0))
	b.ReportMetric(rate, "deliveries/s")
	b.ReportMetric(limit, "sign-limit/s")
	b.ReportMetric(rate/limit, "ratio")
}

// signRate measures RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second on
// one core.
func signRate(b *testing.B) float64 {
	k := key(b)
	h := sha256.Sum256([]byte("(request-target): post /inbox"))
	const n = 300
	start := time.Now()
	for range n {
		if _, err := k.Sign(rand.Reader, h[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
	return n / time.Since(start).Seconds()
}
