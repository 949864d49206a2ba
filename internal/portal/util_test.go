package portal_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
)

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{3}, 64)...)

func newMultipart(buf *bytes.Buffer) string {
	w := multipart.NewWriter(buf)
	fw, _ := w.CreateFormFile("file", "a.png")
	fw.Write(png)
	w.Close()
	return w.FormDataContentType()
}

func decodeJSON(res *http.Response, out any) error { return json.NewDecoder(res.Body).Decode(out) }
