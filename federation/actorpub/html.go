package actorpub

import (
	"html/template"
	"strings"

	"github.com/hanse-network/hanse/internal/domain/actor"
)

// profileTemplate is the HTML profile page: valid HTML5, everything
// escaped by html/template, with the alternate link to the actor document.
var profileTemplate = template.Must(template.New("profile").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.DisplayName}} (@{{.Handle}})</title>
<link rel="alternate" type="application/activity+json" href="{{.IRI}}">
<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}.summary{white-space:pre-line}</style>
</head>
<body>
<main>
{{- if .Gone}}
<h1>Gone</h1>
<p>@{{.Handle}} has been deleted.</p>
{{- else}}
<h1>{{.DisplayName}}</h1>
<p>@{{.Handle}} · {{.KindLabel}}</p>
{{- if .Summary}}
<p class="summary">{{.Summary}}</p>
{{- end}}
{{- end}}
</main>
</body>
</html>
`))

// profilePage is the data of profileTemplate.
type profilePage struct {
	DisplayName, Handle, IRI, KindLabel, Summary string
	Gone                                         bool
}

// kindLabels names the kinds for people.
var kindLabels = map[actor.Kind]string{
	actor.KindPerson:       "Person",
	actor.KindGroup:        "Learning community",
	actor.KindOrganization: "Organization",
	actor.KindApplication:  "This server",
}

// summaryHTML turns a plain-text summary into the HTML AS2 expects:
// escaped paragraphs (blank lines) with <br> for single line breaks.
func summaryHTML(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, para := range strings.Split(s, "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>")
			}
			b.WriteString(template.HTMLEscapeString(line))
		}
		b.WriteString("</p>")
	}
	return b.String()
}
