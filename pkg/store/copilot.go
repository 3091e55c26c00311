package store

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// attrCopilot holds, on the SOURCE#graph-copilot-usage-user-detail item, the
// Copilot report's rows as gzip-compressed JSON: every ingest of any kind
// recomputes the Copilot figures from them, and a report's rows (a key and
// a dozen dates each) compress about tenfold, so the item stays far under
// DynamoDB's 400 KB for the 20,000 rows the parser allows.
const attrCopilot = "copilot"

// putCopilot stores r on item.
func putCopilot(item map[string]types.AttributeValue, r *license.CopilotReport) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(r); err != nil {
		return fmt.Errorf("encoding the Copilot report: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("encoding the Copilot report: %w", err)
	}
	if buf.Len() > maxItemBytes {
		return fmt.Errorf("the Copilot report of %d users takes %d KB compressed, more than one item holds (%d KB)", len(r.Users), buf.Len()>>10, maxItemBytes>>10)
	}
	item[attrCopilot] = &types.AttributeValueMemberB{Value: buf.Bytes()}
	return nil
}

// getCopilot reads what putCopilot stored; nil when the item has none.
func getCopilot(item map[string]types.AttributeValue) (*license.CopilotReport, error) {
	v, ok := item[attrCopilot].(*types.AttributeValueMemberB)
	if !ok {
		return nil, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(v.Value))
	if err != nil {
		return nil, fmt.Errorf("attribute %s: %w", attrCopilot, err)
	}
	var r license.CopilotReport
	if err := json.NewDecoder(zr).Decode(&r); err != nil {
		return nil, fmt.Errorf("attribute %s: %w", attrCopilot, err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("attribute %s: %w", attrCopilot, err)
	}
	return &r, nil
}
