package actorpub

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Media types of actor documents.
const (
	// MediaTypeActivityJSON is the content type of every AS2 document served.
	MediaTypeActivityJSON = "application/activity+json"
	// MediaTypeLDJSON with ActivityStreamsProfile is the other AS2 media type.
	MediaTypeLDJSON = "application/ld+json"
	// ActivityStreamsProfile is the profile parameter naming AS2.
	ActivityStreamsProfile = "https://www.w3.org/ns/activitystreams"
)

// maxAcceptBytes bounds the Accept header examined.
const maxAcceptBytes = 4096

// WantsActivityJSON reports whether the request's Accept header names an
// ActivityStreams media type with a non-zero quality:
// application/activity+json, or application/ld+json with the AS2 profile
// (or without any profile, which no browser sends). Anything else
// (browsers, text/html, */*, no Accept) gets HTML.
func WantsActivityJSON(r *http.Request) bool {
	accept := strings.Join(r.Header.Values("Accept"), ",")
	if len(accept) > maxAcceptBytes {
		accept = accept[:maxAcceptBytes]
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
				continue
			}
		}
		switch mt {
		case MediaTypeActivityJSON:
			return true
		case MediaTypeLDJSON:
			profile, ok := params["profile"]
			if !ok {
				return true
			}
			for _, p := range strings.Fields(profile) {
				if p == ActivityStreamsProfile {
					return true
				}
			}
		}
	}
	return false
}
