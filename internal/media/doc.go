// Package media is the disk store of uploaded files: one file per media
// id under <data-dir>/media/<2 hex>/<id> (files 0600, directories 0700),
// written to a temporary file, fsynced and renamed into place (and the
// directory fsynced) so that a file is durable before its event is
// appended. It decides a file's type from its bytes (http.DetectContentType
// plus magic-number checks for WebP and PDF), accepts only an allow-list
// of types (PNG, JPEG, GIF, WebP, PDF, plain UTF-8 text) whose declared
// and sniffed types agree, and caps the size.
package media
