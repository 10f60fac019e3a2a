package fileserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// idBits is the size of a file id: 53 bits, what a double holds exactly (routes.py's
// BACKWARDS_COMPAT_RANDOM_BITS with no fixed bits).
const idBits = 53

// UploadResponse is the answer to POST /file.
type UploadResponse struct {
	ID string `json:"id"`
}

// ErrBadID is returned for a file id or URL that is not the server's.
var ErrBadID = errors.New("not a file server id")

// ParseUploadResponse reads the answer to an upload, as libsession's parse_upload_response
// does (an "id" string is required; other members are ignored), and checks the id.
func ParseUploadResponse(body []byte) (string, error) {
	var r struct {
		ID *string `json:"id"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", fmt.Errorf("upload response: %w", err)
	}
	if r.ID == nil {
		return "", errors.New(`upload response: no "id" string`)
	}
	if _, err := ParseID(*r.ID); err != nil {
		return "", fmt.Errorf("upload response: %w", err)
	}
	return *r.ID, nil
}

// ParseID reads a file id: a decimal number of at most 53 bits, written without sign or
// leading zeros, as the server writes it.
func ParseID(id string) (uint64, error) {
	n, err := strconv.ParseUint(id, 10, idBits)
	if err != nil || strconv.FormatUint(n, 10) != id {
		return 0, fmt.Errorf("%w: %q", ErrBadID, id)
	}
	return n, nil
}

// FileURL is the download URL the apps put in an attachment pointer: scheme://host/file/<id>
// (libsession's generate_download_url without fragments).
func FileURL(scheme, host, id string) string {
	return scheme + "://" + host + "/file/" + id
}

// ParseFileURL splits a download URL into its host and file id. A fragment (#p=..., #d) is
// ignored, as libsession's parse_download_url ignores what it does not know; the legacy
// /files/<id> form is accepted too.
func ParseFileURL(url string) (host, id string, err error) {
	u, _, _ := strings.Cut(url, "#")
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "", "", fmt.Errorf("%w: %q has no scheme", ErrBadID, url)
	}
	host, path, ok := strings.Cut(rest, "/")
	if !ok || host == "" {
		return "", "", fmt.Errorf("%w: %q has no host and path", ErrBadID, url)
	}
	switch {
	case strings.HasPrefix(path, "file/"):
		id = strings.TrimPrefix(path, "file/")
	case strings.HasPrefix(path, "files/"):
		id = strings.TrimPrefix(path, "files/")
	default:
		return "", "", fmt.Errorf("%w: %q is not a /file/<id> URL", ErrBadID, url)
	}
	if _, err := ParseID(id); err != nil {
		return "", "", err
	}
	return host, id, nil
}
