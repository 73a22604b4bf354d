package delivery_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/federation/delivery"
	"github.com/hanse-network/hanse/federation/moderation"
)

// TestRejectedDomainIsNotDelivered: a delivery to a rejected domain fails
// permanently with "domain blocked", without a POST and without touching
// the host's breaker; other hosts are delivered.
func TestRejectedDomainIsNotDelivered(t *testing.T) {
	e := newEnv(t)
	blocked := newReceiver(t, key(t), statuses(http.StatusAccepted))
	fine := newReceiver(t, key(t), statuses(http.StatusAccepted))
	blockedHost := moderation.HostOf(blocked.srv.URL)
	e.insert("https://hanse.example/a/1", blocked.srv.URL+"/inbox")
	e.insert("https://hanse.example/a/2", fine.srv.URL+"/inbox")
	policy := moderation.PolicyFunc(func(_ context.Context, host string) (moderation.Decision, error) {
		if host == blockedHost {
			return moderation.Reject, nil
		}
		return moderation.Allow, nil
	})
	e.start(delivery.Options{Policy: policy})
	e.await("both settled", func() bool {
		ds := e.list(delivery.Filter{})
		return len(ds) == 2 && ds[0].State != delivery.Pending && ds[1].State != delivery.Pending
	})
	for _, d := range e.list(delivery.Filter{}) {
		switch d.ActivityID {
		case "https://hanse.example/a/1":
			if d.State != delivery.Failed || d.Attempts != 1 || !strings.HasPrefix(d.LastError, "domain blocked") {
				t.Fatalf("blocked delivery %+v", d)
			}
		default:
			if d.State != delivery.Delivered {
				t.Fatalf("fine delivery %+v", d)
			}
		}
	}
	if blocked.calls.Load() != 0 || fine.calls.Load() != 1 {
		t.Fatalf("POSTs: blocked %d, fine %d", blocked.calls.Load(), fine.calls.Load())
	}
	if hs, _ := delivery.Hosts(e.ctx, e.db.Reader()); len(hs) != 0 {
		t.Fatalf("hosts = %+v", hs)
	}
}
