package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/hanse-network/hanse/events"
)

// hiddenField matches the hidden inputs of the sign-in form.
var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// signIn signs a person in the way a Mastodon client app does: register
// an app, open the authorization page, submit the credentials, and
// exchange the code with a PKCE verifier. It returns the access token.
func signIn(t *testing.T, base, login, password, scopes string) string {
	t.Helper()
	const redirect = "urn:ietf:wg:oauth:2.0:oob"
	var reg struct{ ClientID, ClientSecret string }
	body := fmt.Sprintf(`{"client_name":"test client","redirect_uris":%q,"scopes":%q}`, redirect, scopes)
	res, err := http.Post(base+"/api/v1/apps", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var app struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &app) != nil {
		t.Fatalf("register app: %d %s", res.StatusCode, raw)
	}
	reg.ClientID, reg.ClientSecret = app.ClientID, app.ClientSecret
	conf := &oauth2.Config{ClientID: reg.ClientID, ClientSecret: reg.ClientSecret, RedirectURL: redirect,
		Scopes: strings.Fields(scopes), Endpoint: oauth2.Endpoint{AuthURL: base + "/oauth/authorize", TokenURL: base + "/oauth/token"}}
	verifier := oauth2.GenerateVerifier()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = browser.Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	form := url.Values{}
	for _, m := range hiddenField.FindAllSubmatch(page, -1) {
		form.Set(string(m[1]), htmlUnescape(string(m[2])))
	}
	form.Set("login", login)
	form.Set("password", password)
	form.Set("decision", "approve")
	res, err = browser.PostForm(base+"/oauth/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	// The out-of-band page shows the code.
	code := regexp.MustCompile(`<code[^>]*>([^<]+)</code>`).FindSubmatch(page)
	if res.StatusCode != http.StatusOK || code == nil {
		t.Fatalf("authorize: %d %s", res.StatusCode, page)
	}
	tok, err := conf.Exchange(context.Background(), strings.TrimSpace(string(code[1])), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("token exchange: %v", err)
	}
	return tok.AccessToken
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(s)
}

// call performs an API request with a bearer token and a JSON body (or a
// ready-made body when contentType is set), decoding a 2xx answer into out.
func call(t *testing.T, method, target, token string, body any, out any) (int, string) {
	t.Helper()
	var r io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case multipartBody:
		r, contentType = bytes.NewReader(b.data), b.contentType
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, target, r)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, target, err, raw)
		}
	}
	return res.StatusCode, string(raw)
}

type multipartBody struct {
	data        []byte
	contentType string
}

func upload(t *testing.T, file []byte, name, description string) multipartBody {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField("description", description); err != nil {
		t.Fatal(err)
	}
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(file)
	w.Close()
	return multipartBody{data: buf.Bytes(), contentType: w.FormDataContentType()}
}

// leaks returns the secrets found in any file under dir.
func leaks(t *testing.T, dir string, secrets []string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				found = append(found, fmt.Sprintf("%q in %s", s, strings.TrimPrefix(path, dir)))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// A tiny PNG (1×1) followed by a marker, so the stored file is findable.
var pngPixel = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// TestErasureLeavesNothingOfThePerson registers a person who writes
// personal data everywhere it can go — e-mail, display name, bio, a post
// in a community, an image with alt text — then has them delete their own
// account. Afterwards no API response, no read model, no media file and no
// raw byte of the event log or of any other file in the data directory
// contains any of it, while the log stays append-only and every projection
// rebuilds cleanly from it. (The username stays reserved, as on Mastodon.)
func TestErasureLeavesNothingOfThePerson(t *testing.T) {
	dataDir := t.TempDir()
	const adminToken = "erasure-admin-token-0123456789"
	in := startServe(t, map[string]string{"HANSE_ADMIN_TOKEN": adminToken},
		"--listen", "127.0.0.1:0", "--data-dir", dataDir)
	waitReady(t, in.base)
	base := in.base

	secrets := []string{"erin.geheim@example.org", "Erin Geheimname", "Bio-Geheimtext-über-Bienen",
		"Beitrag-Geheiminhalt-Waben", "Alt-Geheimtext-Honig", "MEDIENGEHEIM-7f3a"}
	const password = "Erins-Passwort-123456"

	var created struct {
		ID string `json:"id"`
	}
	if s, body := call(t, "POST", base+"/api/admin/accounts", adminToken, map[string]string{"username": "erin",
		"email": "Erin.Geheim@example.org", "password": password, "role": "facilitator"}, &created); s != http.StatusCreated {
		t.Fatalf("create account: %d %s", s, body)
	}
	token := signIn(t, base, "erin", password, "read write follow")

	if s, body := call(t, "PATCH", base+"/api/v1/accounts/update_credentials", token,
		map[string]string{"display_name": secrets[1], "note": secrets[2]}, nil); s != http.StatusOK {
		t.Fatalf("update credentials: %d %s", s, body)
	}
	var community struct {
		ID       string `json:"id"`
		Position uint64 `json:"position"`
	}
	if s, body := call(t, "POST", base+"/api/hanse/v1/communities", token, map[string]any{"username": "imkerei",
		"name": "Imkerei am Deich", "policy": "open", "visibility": "public", "topics": []string{"bienen"}}, &community); s != http.StatusCreated {
		t.Fatalf("create community: %d %s", s, body)
	}
	var media struct {
		ID string `json:"id"`
	}
	file := append(append([]byte{}, pngPixel...), []byte(secrets[5])...)
	if s, body := call(t, "POST", base+"/api/hanse/v1/media", token, upload(t, file, "wabe.png", secrets[4]), &media); s >= 300 {
		t.Fatalf("upload: %d %s", s, body)
	}
	var post struct {
		ID       string `json:"id"`
		Position uint64 `json:"position"`
	}
	if s, body := call(t, "POST", base+"/api/hanse/v1/posts", token, map[string]any{"community_id": community.ID,
		"content": secrets[3] + " #bienen", "language": "de", "media_ids": []string{media.ID}}, &post); s != http.StatusCreated {
		t.Fatalf("post: %d %s", s, body)
	}
	timeline := fmt.Sprintf("%s/api/hanse/v1/communities/%s/timeline?min_position=%d", base, community.ID, post.Position)
	if s, body := call(t, "GET", timeline, "", nil, nil); s != http.StatusOK || !strings.Contains(body, secrets[3]) {
		t.Fatalf("before erasure the community timeline shows the post: %d %s", s, body)
	}
	if s, body := call(t, "GET", base+"/api/v1/accounts/verify_credentials", token, nil, nil); s != http.StatusOK ||
		!strings.Contains(body, secrets[1]) {
		t.Fatalf("before erasure: %d %s", s, body)
	}

	// The scanner below does find the data while it exists: the media file
	// holds its marker and the read models hold the post's text.
	if before := leaks(t, dataDir, []string{secrets[3], secrets[5]}); len(before) < 2 {
		t.Fatalf("before erasure the data directory should hold the post text and the file: %v", before)
	}

	// The person deletes their own account.
	var erased struct {
		Position uint64 `json:"position"`
	}
	if s, body := call(t, "POST", base+"/api/hanse/v1/me/erase", token, map[string]string{"password": password}, &erased); s >= 300 {
		t.Fatalf("erase: %d %s", s, body)
	}

	// API responses reveal nothing; the token no longer works.
	if s, _ := call(t, "GET", base+"/api/v1/accounts/verify_credentials", token, nil, nil); s != http.StatusUnauthorized {
		t.Errorf("verify_credentials after erasure: %d, want 401", s)
	}
	reads := []string{
		fmt.Sprintf("%s/api/hanse/v1/communities/%s/timeline?min_position=%d", base, community.ID, erased.Position),
		fmt.Sprintf("%s/api/hanse/v1/posts/%s?min_position=%d", base, post.ID, erased.Position),
		fmt.Sprintf("%s/api/hanse/v1/timelines/public?min_position=%d", base, erased.Position),
		fmt.Sprintf("%s/api/hanse/v1/timelines/tag/bienen?min_position=%d", base, erased.Position),
		fmt.Sprintf("%s/api/admin/accounts/%s?min_position=%d", base, created.ID, erased.Position),
		fmt.Sprintf("%s/api/admin/activity?min_position=%d&limit=200", base, erased.Position),
		base + "/media/" + media.ID,
		fmt.Sprintf("%s/users/erin?min_position=%d", base, erased.Position),
	}
	for _, target := range reads {
		tok := ""
		if strings.Contains(target, "/api/admin/") {
			tok = adminToken
		}
		_, body := call(t, "GET", target, tok, nil, nil)
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("GET %s still shows %q: %s", target, s, body)
			}
		}
	}
	if s, _ := call(t, "GET", base+"/media/"+media.ID, "", nil, nil); s != http.StatusNotFound && s != http.StatusGone {
		t.Errorf("media after erasure: %d, want 404 or 410", s)
	}

	// Every projection — the serve-only reactors and the outbound
	// projector included — has applied the erasure before the server stops.
	eventually(t, "every projection caught up with the erasure", func() bool {
		rep := statusJSON(t, dataDir)
		if len(rep.Projections) == 0 {
			return false
		}
		for _, p := range rep.Projections {
			if p.Head < events.Position(erased.Position) || p.Position < p.Head {
				return false
			}
		}
		return true
	})

	// Stop the server: every file in the data directory — the event log,
	// the read models, the media directory — is free of the person's data.
	if code := in.stop(t); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	for _, leak := range leaks(t, dataDir, secrets) {
		t.Errorf("after erasure: %s", leak)
	}

	// The log is append-only (the erasure is one more event) and every
	// projection rebuilds from it without error and without the data.
	if code, stdout, stderr := runCLI(t, nil, "projections", "rebuild", "--data-dir", dataDir); code != 0 {
		t.Fatalf("rebuild after erasure: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, leak := range leaks(t, dataDir, secrets) {
		t.Errorf("after the rebuild: %s", leak)
	}
}
