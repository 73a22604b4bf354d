// Package note is the domain of short public posts (ActivityStreams Note)
// written by local actors. It exists so that federation can be exercised
// before the learning features land; posts into communities come later.
package note
