// Package media owns uploaded files as facts: a person uploaded a file
// (its type, size, SHA-256 and alt text), and the file was deleted. The
// bytes live outside the log (internal/media); the alt text is personal
// data, sealed under the owner's data key. Each owner has an index
// stream listing their uploads, so that erasing an account finds every
// file without a read model.
package media
