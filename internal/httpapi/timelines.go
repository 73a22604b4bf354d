package httpapi

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/projections/posts"
)

// pageOf reads limit, max_id and since_id; a limit that is not a number
// is a 400 (written here, false returned). Limits beyond the maximum are
// lowered to it.
func pageOf(w http.ResponseWriter, r *http.Request) (posts.Page, bool) {
	q := r.URL.Query()
	page := posts.Page{MaxID: q.Get("max_id"), SinceID: q.Get("since_id")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "limit must be a number from 1 to "+strconv.Itoa(posts.MaxLimit))
			return posts.Page{}, false
		}
		page.Limit = n
	}
	return page, true
}

// writeList answers a page of posts with the Link header of the next
// (older) and previous (newer) pages.
func (h *postHandlers) writeList(w http.ResponseWriter, r *http.Request, ps []posts.Post, err error) {
	h.writePosts(w, r, ps, err, true)
}

// writePosts answers posts, with paging links when paged.
func (h *postHandlers) writePosts(w http.ResponseWriter, r *http.Request, ps []posts.Post, err error, paged bool) {
	if err != nil {
		writePostError(w, r, err)
		return
	}
	out := PostListJSON{Items: make([]PostJSON, 0, len(ps))}
	for _, p := range ps {
		out.Items = append(out.Items, h.postJSON(p))
	}
	if paged && len(ps) > 0 {
		link := func(param, id, rel string) string {
			q := url.Values{}
			for k, v := range r.URL.Query() {
				if k != "max_id" && k != "since_id" && k != MinPositionParam {
					q[k] = v
				}
			}
			q.Set(param, id)
			return "<" + r.URL.Path + "?" + q.Encode() + `>; rel="` + rel + `"`
		}
		out.Next = ps[len(ps)-1].ID
		w.Header().Set("Link", link("max_id", out.Next, "next")+", "+link("since_id", ps[0].ID, "prev"))
	}
	WriteJSON(w, http.StatusOK, out)
}

func (h *postHandlers) replies(w http.ResponseWriter, r *http.Request) {
	page, ok := pageOf(w, r)
	if !ok {
		return
	}
	ps, err := h.o.Reader.Replies(r.Context(), chi.URLParam(r, "id"), viewerOf(r), page)
	h.writeList(w, r, ps, err)
}

func (h *postHandlers) home(w http.ResponseWriter, r *http.Request) {
	page, ok := pageOf(w, r)
	if !ok {
		return
	}
	ps, err := h.o.Reader.HomeTimeline(r.Context(), viewerOf(r), page)
	h.writeList(w, r, ps, err)
}

func (h *postHandlers) public(w http.ResponseWriter, r *http.Request) {
	page, ok := pageOf(w, r)
	if !ok {
		return
	}
	local := false
	if v := r.URL.Query().Get("local"); v != "" {
		var err error
		if local, err = strconv.ParseBool(v); err != nil {
			WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "local must be true or false")
			return
		}
	}
	ps, err := h.o.Reader.PublicTimeline(r.Context(), local, page)
	h.writeList(w, r, ps, err)
}

func (h *postHandlers) tag(w http.ResponseWriter, r *http.Request) {
	page, ok := pageOf(w, r)
	if !ok {
		return
	}
	ps, err := h.o.Reader.TagTimeline(r.Context(), chi.URLParam(r, "tag"), page)
	h.writeList(w, r, ps, err)
}

func (h *postHandlers) community(w http.ResponseWriter, r *http.Request) {
	page, ok := pageOf(w, r)
	if !ok {
		return
	}
	ps, err := h.o.Reader.CommunityTimeline(r.Context(), chi.URLParam(r, "id"), viewerOf(r), page)
	h.writeList(w, r, ps, err)
}

func (h *postHandlers) featured(w http.ResponseWriter, r *http.Request) {
	ps, err := h.o.Reader.Featured(r.Context(), chi.URLParam(r, "id"), viewerOf(r))
	h.writePosts(w, r, ps, err, false)
}
