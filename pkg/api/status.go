package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// ErrorOf is the one place where the application's errors become HTTP
// statuses: an *Error a handler made on purpose stays as it is; the
// services' error kinds map as below; anything else is a 500 (logged by
// the router, never shown). Handlers return the services' errors as they
// come and make an *Error only where they can say more than the kind
// (which customer was not found, which parameter is wrong).
//
//	invalid document (source.InvalidError)   422 invalid_document, its problems as details
//	unknown document kind (ingest.ErrKind)   400 bad_request
//	an older document (ingest.ErrStale)      409 conflict
//	lost every optimistic race               409 conflict
//	no tenant (license.ErrNoTenant)          401 unauthorized
//	a cursor of another list                 400 bad_request
//
// store.ErrNotFound is not in the table: a 404 always names what was not
// found (NotFound), which only the handler knows.
func ErrorOf(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var invalid *source.InvalidError
	switch {
	case errors.As(err, &invalid):
		details := make([]any, len(invalid.Problems))
		for i, p := range invalid.Problems {
			details[i] = p
		}
		return Unprocessable(fmt.Sprintf("the document was rejected whole: %d problem(s); the first %d are listed (line, column, reason). Fix them, or resend with ?skipInvalid=true to skip bad rows", invalid.Total, len(invalid.Problems)), details...)
	case errors.Is(err, ingest.ErrKind):
		return BadRequest(err.Error(), Detail{Field: "kind"})
	case errors.Is(err, ingest.ErrStale):
		return Conflict(err.Error())
	case errors.Is(err, ingest.ErrConflict):
		return Conflict("other ingests for this customer kept finishing first; retry")
	case errors.Is(err, license.ErrNoTenant):
		return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: err.Error()}
	case errors.Is(err, store.ErrBadCursor):
		return BadRequest("cursor does not continue this list: pass the nextCursor of the previous page with the same sort, filter and band", Detail{Field: "cursor"})
	}
	return nil
}
