package inbox_test

import (
	"bytes"
	"io"
)

func nopCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
