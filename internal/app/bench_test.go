package app_test

import (
	"fmt"
	"testing"

	"github.com/hanse-network/hanse/internal/app"
)

// BenchmarkCreate measures Create with a fixed key: two durable appends,
// sealing, PEM encoding.
func BenchmarkCreate(b *testing.B) {
	e := newEnv(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.a.Create(e.ctx, person(fmt.Sprintf("u%d", i))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerateRSAKey measures the default key generator (run with a
// small -benchtime such as 10x).
func BenchmarkGenerateRSAKey(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := app.GenerateRSAKey(); err != nil {
			b.Fatal(err)
		}
	}
}
