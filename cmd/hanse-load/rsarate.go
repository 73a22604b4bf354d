package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"runtime"
	"time"
)

// rsaLimit is an RSA-2048 rate of this machine: operations per second of
// one goroutine, and that times GOMAXPROCS (the single-machine limit the
// load figures are compared with).
type rsaLimit struct {
	Op      string  // "verify" or "sign"
	PerCore float64 // operations/s on one goroutine
	Procs   int     // GOMAXPROCS
}

// Limit is PerCore × Procs.
func (l rsaLimit) Limit() float64 { return l.PerCore * float64(l.Procs) }

func (l rsaLimit) String() string {
	return fmt.Sprintf("RSA-2048 %s: %.0f/s per core × %d = %.0f/s", l.Op, l.PerCore, l.Procs, l.Limit())
}

// measureRSA times PKCS#1 v1.5 SHA-256 verifications (sign false) or
// signatures (sign true) with key on one goroutine for about d.
func measureRSA(key *rsa.PrivateKey, sign bool, d time.Duration) (rsaLimit, error) {
	digest := sha256.Sum256([]byte("hanse-load"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return rsaLimit{}, fmt.Errorf("rsa sign: %w", err)
	}
	l := rsaLimit{Op: "verify", Procs: runtime.GOMAXPROCS(0)}
	if sign {
		l.Op = "sign"
	}
	n := 0
	start := time.Now()
	for n < 10 || time.Since(start) < d {
		for range 10 {
			if sign {
				_, err = key.Sign(rand.Reader, digest[:], crypto.SHA256)
			} else {
				err = rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig)
			}
			if err != nil {
				return rsaLimit{}, fmt.Errorf("rsa %s: %w", l.Op, err)
			}
		}
		n += 10
	}
	l.PerCore = float64(n) / time.Since(start).Seconds()
	return l, nil
}
