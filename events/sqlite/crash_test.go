package sqlite

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
)

// The crash test runs a child process (this test binary, re-executed with
// crashChildEnv set) that appends continuously from several goroutines and
// prints every acknowledged event as soon as Append returns. The parent
// kills it with SIGKILL at a random moment, reopens the store and checks
// that nothing acknowledged was lost and that no batch is half visible.

const (
	crashChildEnv = "HANSE_CRASH_CHILD_DB"
	crashWriters  = 6
)

// crashPayload marks each event as part k of an n-event append.
type crashPayload struct {
	Batch string `json:"batch"`
	K     int    `json:"k"`
	N     int    `json:"n"`
}

// TestCrashChild is the child's body; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("only runs as the crash test's child process")
	}
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	var out sync.Mutex
	round := os.Getenv("HANSE_CRASH_ROUND")
	var wg sync.WaitGroup
	for g := range crashWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			stream := fmt.Sprintf("crash-%s_%d", round, g)
			shared := "crash-shared"
			for i := 0; ; i++ {
				n := 1 + rng.IntN(5)
				batch := fmt.Sprintf("%s/%d/%d", round, g, i)
				evs := make([]events.EventData, n)
				for k := range evs {
					data, _ := json.Marshal(crashPayload{Batch: batch, K: k, N: n})
					evs[k] = events.EventData{ID: events.NewUUID(), Type: "crash.appended", Data: data}
				}
				target, exp := stream, events.Exact(0)
				switch {
				case i%4 == 3:
					target, exp = shared, events.Any
				case i == 0:
					exp = events.NoStream
				default:
					exp = events.StreamExists
				}
				res, err := s.Append(context.Background(), target, exp, evs...)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(3)
				}
				var b strings.Builder
				for k, e := range evs {
					fmt.Fprintf(&b, "ack %s %d %d %s\n", target, res.NextRevision-uint64(n-1-k),
						uint64(res.Position)-uint64(n-1-k), e.ID)
				}
				out.Lock()
				_, err = io.WriteString(os.Stdout, b.String()) // one write: a kill leaves whole lines
				out.Unlock()
				if err != nil {
					os.Exit(4)
				}
			}
		}()
	}
	wg.Wait()
}

type ack struct {
	stream   string
	revision uint64
	position events.Position
}

func TestCrashRecovery(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("in the child")
	}
	rounds := 20
	if os.Getenv("HANSE_LONG_TESTS") == "1" {
		rounds = 200
	}
	path := filepath.Join(t.TempDir(), "crash", "events.db")
	acked := map[events.UUID]ack{}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	start := time.Now()
	for round := range rounds {
		got := runCrashChild(t, path, round, time.Duration(5+rng.IntN(150))*time.Millisecond)
		for id, a := range got {
			acked[id] = a
		}
		verifyAfterCrash(t, path, round, acked)
	}
	t.Logf("%d rounds, %d acknowledged events, %v", rounds, len(acked), time.Since(start).Round(time.Millisecond))
}

// runCrashChild starts the child, lets it append for a while after its
// first acknowledgement, kills it and returns what it acknowledged.
func runCrashChild(t *testing.T, path string, round int, runFor time.Duration) map[events.UUID]ack {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path, "HANSE_CRASH_ROUND="+strconv.Itoa(round))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acks := map[events.UUID]ack{}
	firstAck := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "ack ") {
				continue
			}
			var a ack
			var id string
			if _, err := fmt.Sscanf(line, "ack %s %d %d %s", &a.stream, &a.revision, &a.position, &id); err != nil {
				done <- fmt.Errorf("bad line %q: %v", line, err)
				return
			}
			acks[events.MustParseUUID(id)] = a
			once.Do(func() { close(firstAck) })
		}
		done <- sc.Err()
	}()
	select {
	case <-firstAck:
	case err := <-done:
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("round %d: child ended before acknowledging anything (%v): %s", round, err, stderr.String())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("round %d: child acknowledged nothing in 30 s: %s", round, stderr.String())
	}
	time.Sleep(runFor) // the crash moment is meant to be random
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("round %d: kill: %v", round, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("round %d: reading acknowledgements: %v", round, err)
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("round %d: child was not killed (%v): %s", round, err, stderr.String())
	}
	return acks
}

// verifyAfterCrash reopens the store and checks the log against acks.
func verifyAfterCrash(t *testing.T, path string, round int, acked map[events.UUID]ack) {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
	}
	defer s.Close()
	ctx := context.Background()
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := make(map[events.UUID]events.Envelope, head)
	nextRev := map[string]uint64{}
	type batchState struct {
		n, seen  int
		lastPos  events.Position
		complete bool
	}
	batches := map[string]*batchState{}
	var after events.Position
	for after < head {
		page, err := s.ReadAll(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			if e.Position != after+1 {
				t.Fatalf("round %d: position %d follows %d: the log is not contiguous", round, e.Position, after)
			}
			after = e.Position
			if e.Revision != nextRev[e.StreamID] {
				t.Fatalf("round %d: %s has revision %d where %d was due", round, e.StreamID, e.Revision, nextRev[e.StreamID])
			}
			nextRev[e.StreamID]++
			byID[e.ID] = e
			var p crashPayload
			if err := json.Unmarshal(e.Data, &p); err != nil {
				t.Fatalf("round %d: event %d: %v", round, e.Position, err)
			}
			b := batches[p.Batch]
			if b == nil {
				b = &batchState{n: p.N}
				batches[p.Batch] = b
			} else if e.Position != b.lastPos+1 {
				t.Fatalf("round %d: batch %s is not contiguous in the log", round, p.Batch)
			}
			if p.K != b.seen || p.N != b.n {
				t.Fatalf("round %d: batch %s: event %d of %d where %d of %d was due", round, p.Batch, p.K, p.N, b.seen, b.n)
			}
			b.seen++
			b.lastPos = e.Position
		}
	}
	if after != head {
		t.Fatalf("round %d: read up to %d, head is %d", round, after, head)
	}
	for name, b := range batches {
		if b.seen != b.n {
			t.Fatalf("round %d: batch %s is half visible: %d of %d events", round, name, b.seen, b.n)
		}
	}
	for id, a := range acked {
		e, ok := byID[id]
		if !ok {
			t.Fatalf("round %d: acknowledged event %s (%s@%d, position %d) is lost", round, id, a.stream, a.revision, a.position)
		}
		if e.StreamID != a.stream || e.Revision != a.revision || e.Position != a.position {
			t.Fatalf("round %d: event %s acknowledged as %s@%d position %d, found %s@%d position %d",
				round, id, a.stream, a.revision, a.position, e.StreamID, e.Revision, e.Position)
		}
	}
}
