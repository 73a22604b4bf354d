package fold_test

import (
	"errors"
	"testing"

	"github.com/hanse-network/hanse/internal/domain/fold"
)

type counter struct{ n int }

func (c *counter) Apply(payload any) error {
	if payload == "bad" {
		return errors.New("cannot apply bad")
	}
	c.n++
	return nil
}

func TestFold(t *testing.T) {
	tests := []struct {
		name     string
		payloads []any
		want     int
		wantErr  bool
	}{
		{name: "nothing", want: 0},
		{name: "in order", payloads: []any{"a", "b", "c"}, want: 3},
		{name: "a payload that does not apply", payloads: []any{"a", "bad", "c"}, want: 0, wantErr: true},
	}
	for _, tt := range tests {
		got, err := fold.Fold[counter](tt.payloads...)
		if got.n != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: state %d, err %v; want %d, error %v", tt.name, got.n, err, tt.want, tt.wantErr)
		}
	}
}
