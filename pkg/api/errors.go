package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
)

// Error is an API error: its HTTP status and the body
// {"error": {"code", "message", "details"}} of docs/definitions.md#the-api.
type Error struct {
	Status  int
	Code    string
	Message string
	Details []any
	// RetryAfter, when positive, is sent as the Retry-After header
	// (seconds).
	RetryAfter int
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Detail names the field and value an error is about.
type Detail struct {
	Field  string `json:"field,omitempty"`
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// BadRequest is a 400 about a malformed parameter or body.
func BadRequest(msg string, details ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: msg, Details: details}
}

// NotFound is the 404 for something the tenant does not have. Another
// tenant's object answers exactly the same, so that ids reveal nothing.
func NotFound(what, id string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("%s %q not found", what, id)}
}

// Conflict is a 409.
func Conflict(msg string) *Error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Message: msg}
}

// Unprocessable is a 422: well-formed but invalid content.
func Unprocessable(msg string, details ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_document", Message: msg, Details: details}
}

// TooLarge is the 413 for a body that must go through an upload instead.
func TooLarge() *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: "payload_too_large",
		Message: fmt.Sprintf("the body exceeds %d MiB: use POST /v1/uploads for large files", MaxBodyBytes>>20)}
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []any  `json:"details"`
	} `json:"error"`
}

func errorResponse(err error) events.APIGatewayProxyResponse {
	e := ErrorOf(err)
	if e == nil {
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
	}
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Details = e.Code, e.Message, e.Details
	if b.Error.Details == nil {
		b.Error.Details = []any{}
	}
	resp, _ := JSON(e.Status, b)
	if e.RetryAfter > 0 {
		resp.Headers["Retry-After"] = strconv.Itoa(e.RetryAfter)
	}
	return resp
}

// Unavailable is the 503 of a request whose store did not answer within
// its deadline: nothing is wrong with the request, and it may be sent
// again shortly.
func Unavailable() *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", RetryAfter: RetryAfterSeconds,
		Message: fmt.Sprintf("the data store did not answer in time; nothing was changed that a retry would repeat, so send the request again in %d seconds", RetryAfterSeconds)}
}

// JSON is a response with v as its JSON body.
func JSON(status int, v any) (Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Response{}, err
	}
	return Response{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       string(b),
	}, nil
}

// EncodeCursor makes an opaque pagination cursor of v.
func EncodeCursor(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// DecodeCursor reads a cursor made by EncodeCursor; a tampered or foreign
// cursor is a 400.
func DecodeCursor(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return BadRequest("cursor is not one this API issued", Detail{Field: "cursor"})
	}
	return nil
}

// Page reads a list route's ?limit= (1 to 500, 50 when absent) and, when
// given, its opaque ?cursor= into cur (a tampered or foreign one is a 400),
// so that every paged route reads its paging the same way.
func (r *Request) Page(cur any) (limit int, err error) {
	if limit, err = r.QueryInt("limit", 50, 1, 500); err != nil {
		return 0, err
	}
	if s := r.Query("cursor"); s != "" {
		if err := DecodeCursor(s, cur); err != nil {
			return 0, err
		}
	}
	return limit, nil
}

// NextCursor is a page's nextCursor: cur encoded, or null (nil) when there
// is no next page (more is false).
func NextCursor(cur any, more bool) (*string, error) {
	if !more {
		return nil, nil
	}
	c, err := EncodeCursor(cur)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
