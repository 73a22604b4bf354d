package media_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/internal/domain/media"
	"github.com/hanse-network/hanse/internal/domain/personal"
)

var (
	digest   = strings.Repeat("ab", 32)
	uploaded = media.Uploaded{MediaID: "m1", OwnerID: "alice", MediaType: media.PNG, Size: 10, SHA256: digest}
)

func fold(ps ...any) media.State {
	s, err := media.Fold(ps...)
	if err != nil {
		panic(err)
	}
	return s
}

func TestUpload(t *testing.T) {
	in := func(mod func(*media.NewUpload)) media.NewUpload {
		u := media.NewUpload{ID: "m1", OwnerID: "alice", MediaType: media.PNG, Size: 10, SHA256: digest, Description: " a hive "}
		if mod != nil {
			mod(&u)
		}
		return u
	}
	withDesc := uploaded
	withDesc.Description, _ = personal.Plain{}.Seal("alice", "a hive")
	tests := []struct {
		name      string
		given     []any
		in        media.NewUpload
		want      any
		wantErr   error
		wantField string
	}{
		{"png with alt text sealed under the owner", nil, in(nil), withDesc, nil, ""},
		{"no alt text", nil, in(func(u *media.NewUpload) { u.Description = "" }), uploaded, nil, ""},
		{"twice", []any{uploaded}, in(nil), nil, media.ErrAlreadyExists, ""},
		{"svg", nil, in(func(u *media.NewUpload) { u.MediaType = "image/svg+xml" }), nil, nil, "file"},
		{"empty", nil, in(func(u *media.NewUpload) { u.Size = 0 }), nil, nil, "file"},
		{"no owner", nil, in(func(u *media.NewUpload) { u.OwnerID = "" }), nil, nil, "owner"},
		{"bad digest", nil, in(func(u *media.NewUpload) { u.SHA256 = "x" }), nil, nil, "sha256"},
		{"alt text too long", nil, in(func(u *media.NewUpload) { u.Description = strings.Repeat("x", 1501) }), nil, nil, "description"},
		{"control character", nil, in(func(u *media.NewUpload) { u.Description = "a\x07" }), nil, nil, "description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := media.Upload(fold(tt.given...), tt.in, personal.Plain{})
			var fe *media.FieldError
			switch {
			case tt.wantField != "":
				if !errors.As(err, &fe) || fe.Field != tt.wantField {
					t.Fatalf("err = %v, want a FieldError on %s", err, tt.wantField)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			default:
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
				}
			}
		})
	}
}

func TestDelete(t *testing.T) {
	if got, err := media.Delete(fold(uploaded), "erased"); err != nil || got.Reason != "erased" {
		t.Fatalf("Delete = %+v, %v", got, err)
	}
	if _, err := media.Delete(fold(uploaded, media.Deleted{}), ""); !errors.Is(err, media.ErrDeleted) {
		t.Fatalf("twice: %v", err)
	}
	if _, err := media.Delete(fold(), ""); !errors.Is(err, media.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	for _, ps := range [][]any{{media.Deleted{}}, {uploaded, uploaded}, {"x"}} {
		if _, err := media.Fold(ps...); err == nil {
			t.Errorf("Fold(%v) succeeded", ps)
		}
	}
	s := fold(uploaded)
	if want := (media.State{Exists: true, ID: "m1", OwnerID: "alice", MediaType: media.PNG, Size: 10}); s != want {
		t.Fatalf("state %+v", s)
	}
}

func TestAllowed(t *testing.T) {
	for _, ty := range []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"} {
		if !media.Allowed(ty) {
			t.Errorf("%s not allowed", ty)
		}
	}
	for _, ty := range []string{"image/svg+xml", "text/html", "application/octet-stream", ""} {
		if media.Allowed(ty) {
			t.Errorf("%s allowed", ty)
		}
	}
	if !media.IsImage(media.WebP) || media.IsImage(media.PDF) {
		t.Error("IsImage")
	}
}
