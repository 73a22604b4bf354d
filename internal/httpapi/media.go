package httpapi

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
)

// MediaCommands is what the media routes need of the application
// (app.Media implements it).
type MediaCommands interface {
	Upload(ctx context.Context, owner string, r io.Reader, declaredType, description string) (app.MediaInfo, events.Position, error)
	Open(ctx context.Context, id string) (io.ReadSeekCloser, app.MediaInfo, error)
}

// DefaultMaxUploadBytes is the largest file POST /media accepts unless
// MediaRoutesOptions says otherwise (the media store's default).
const DefaultMaxUploadBytes int64 = 10 << 20

// uploadEnvelope is what a multipart upload may carry besides the file
// (boundaries, part headers, the description).
const uploadEnvelope int64 = 64 << 10

// DefaultUploadRate is the default per-account upload rate, Mastodon's:
// 30 files in 30 minutes.
var DefaultUploadRate = Limit{PerSecond: 30.0 / 1800, Burst: 30}

// MediaRoutesOptions configure MediaRoutes; Commands is required.
type MediaRoutesOptions struct {
	Commands MediaCommands
	// MaxUploadBytes is the largest file (DefaultMaxUploadBytes when 0);
	// give the media store's limit. The route's body cap is this plus a
	// small envelope: bigger requests get 413 before anything is read.
	MaxUploadBytes int64
	// MediaURL gives the address of an upload (nil: PublicMediaPath +
	// "/" + id).
	MediaURL func(id string) string
	// UploadRateLimit limits POST /media (after authentication); nil
	// means DefaultUploadRate per account.
	UploadRateLimit func(http.Handler) http.Handler
}

// MediaJSON answers an upload.
type MediaJSON struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Size     int64           `json:"size"`
	URL      string          `json:"url"`
	Position events.Position `json:"position"`
}

// MediaRoutes mounts the media API:
//
//	POST /api/hanse/v1/media       upload (scope write; multipart/form-data with "file" and optional "description") → 201
//	GET  /api/hanse/v1/media/{id}  the file (no sign-in: media URLs are unguessable and federated)
//	GET  /media/{id}               the same, at the address federation documents use
//
// Files are served with their stored type, X-Content-Type-Options:
// nosniff, a sandboxing Content-Security-Policy, Content-Disposition
// attachment for everything but images, and a year's immutable caching.
func MediaRoutes(o MediaRoutesOptions) func(chi.Router) {
	max := o.MaxUploadBytes
	if max <= 0 {
		max = DefaultMaxUploadBytes
	}
	limit := o.UploadRateLimit
	if limit == nil {
		limit = RateLimit(AccountKey, DefaultUploadRate.PerSecond, DefaultUploadRate.Burst)
	}
	h := &mediaHandlers{o: o, max: max}
	return func(r chi.Router) {
		r.With(requirePostScope("write"), limit).Method(http.MethodPost, MediaPath,
			BodyLimit(max+uploadEnvelope, http.HandlerFunc(h.upload)))
		r.Get(MediaPath+"/{id}", h.serve)
		r.Get(PublicMediaPath+"/{id}", h.serve)
	}
}

type mediaHandlers struct {
	o   MediaRoutesOptions
	max int64
}

func (h *mediaHandlers) upload(w http.ResponseWriter, r *http.Request) {
	// Small parts stay in memory, the file goes to a temporary file.
	err := r.ParseMultipartForm(1 << 20)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		w.Header().Set("Connection", "close")
		WriteError(w, r, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the upload exceeds "+byteCount(h.max))
		return
	case errors.Is(err, http.ErrNotMultipart), errors.Is(err, http.ErrMissingBoundary):
		WriteError(w, r, http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "send multipart/form-data with a file part named \"file\"")
		return
	case err != nil:
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "malformed multipart body: "+err.Error())
		return
	}
	defer r.MultipartForm.RemoveAll()
	files := r.MultipartForm.File["file"]
	if len(files) != 1 {
		WriteValidationError(w, r, "file", "send exactly one file part named \"file\"")
		return
	}
	f, err := files[0].Open()
	if err != nil {
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "unreadable file part: "+err.Error())
		return
	}
	defer f.Close()
	description := ""
	if d := r.MultipartForm.Value["description"]; len(d) > 0 {
		description = d[0]
	}
	info, pos, err := h.o.Commands.Upload(r.Context(), viewerOf(r), f, declaredType(files[0]), description)
	if err != nil {
		writePostError(w, r, err)
		return
	}
	u := PublicMediaPath + "/" + info.ID
	if h.o.MediaURL != nil {
		u = h.o.MediaURL(info.ID)
	}
	w.Header().Set("Location", u)
	WriteJSON(w, http.StatusCreated, MediaJSON{ID: info.ID, Type: info.Type, Size: info.Size, URL: u, Position: pos})
}

func declaredType(fh *multipart.FileHeader) string { return fh.Header.Get("Content-Type") }

func byteCount(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// mediaExtensions name downloaded files.
var mediaExtensions = map[string]string{
	"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
	"application/pdf": ".pdf", "text/plain": ".txt",
}

func (h *mediaHandlers) serve(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	f, info, err := h.o.Commands.Open(r.Context(), id)
	if errors.Is(err, app.ErrMediaNotFound) {
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "no such file")
		return
	}
	if err != nil {
		writePostError(w, r, err)
		return
	}
	defer f.Close()
	hd := w.Header()
	ct := info.Type
	if ct == "text/plain" {
		ct += "; charset=utf-8"
	}
	hd.Set("Content-Type", ct)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	hd.Set("ETag", `"`+id+`"`)
	disposition := "inline"
	if !strings.HasPrefix(info.Type, "image/") {
		disposition = "attachment"
	}
	hd.Set("Content-Disposition", disposition+`; filename="`+id+mediaExtensions[info.Type]+`"`)
	http.ServeContent(w, r, "", time.Time{}, f)
}
