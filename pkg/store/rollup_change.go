package store

// The roll-up's input: a table stream record of a customer's FIGURES item,
// read into a FiguresChange (see rollup.go for the roll-up as a whole).

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// ParseCustomerPK splits T#<t>#C#<c> into the tenant and the customer id.
func ParseCustomerPK(pk string) (license.Tenant, string, error) {
	rest, ok := strings.CutPrefix(pk, "T#")
	if !ok {
		return license.Tenant{}, "", fmt.Errorf("key %q is not a customer partition T#<tenant>#C#<customer>", pk)
	}
	tenantID, customerID, ok := strings.Cut(rest, "#C#")
	if !ok {
		return license.Tenant{}, "", fmt.Errorf("key %q is not a customer partition T#<tenant>#C#<customer>", pk)
	}
	t, err := license.NewTenant(tenantID)
	if err != nil {
		return license.Tenant{}, "", fmt.Errorf("key %q: %w", pk, err)
	}
	if err := license.ValidCustomerID(customerID); err != nil {
		return license.Tenant{}, "", fmt.Errorf("key %q: %w", pk, err)
	}
	return t, customerID, nil
}

// FiguresChange is one stream record of a customer's FIGURES item.
type FiguresChange struct {
	Tenant     license.Tenant
	CustomerID string
	// RecordID is the stream record's sequence number: what identifies the
	// record when Lambda delivers it again.
	RecordID string
	// Old is nil for an insert, New for a removal.
	Old, New               *license.Figures
	OldVersion, NewVersion int64
}

// marker is the change part of the APPLIED key: the new version, or
// DEL<old version> for a removal.
func (c *FiguresChange) marker() string {
	if c.New == nil {
		return "DEL" + strconv.FormatInt(c.OldVersion, 10)
	}
	return strconv.FormatInt(c.NewVersion, 10)
}

// FiguresChangeOf reads a stream record: ok is false when the record is not
// about a FIGURES item (the event source's filter lets only those through;
// anything else is none of the roll-up's business). An image that cannot be
// decoded is an error: skipping it would silently corrupt the roll-up.
func FiguresChangeOf(recordID string, keys, oldImage, newImage map[string]types.AttributeValue) (c FiguresChange, ok bool, err error) {
	if stringOf(keys, attrSK) != skFigures {
		return FiguresChange{}, false, nil
	}
	if recordID == "" {
		return FiguresChange{}, false, errors.New("stream record without a sequence number")
	}
	c.RecordID = recordID
	if c.Tenant, c.CustomerID, err = ParseCustomerPK(stringOf(keys, attrPK)); err != nil {
		return FiguresChange{}, false, err
	}
	decode := func(image map[string]types.AttributeValue, which string) (*license.Figures, int64, error) {
		if len(image) == 0 {
			return nil, 0, nil
		}
		if _, has := image[attrFigures]; !has {
			return nil, 0, fmt.Errorf("%s image of %s has no %s attribute", which, c.CustomerID, attrFigures)
		}
		f, err := decodeFigures(image)
		if err != nil {
			return nil, 0, fmt.Errorf("%s image of %s: %w", which, c.CustomerID, err)
		}
		return &f.Figures, f.Version, nil
	}
	if c.Old, c.OldVersion, err = decode(oldImage, "old"); err != nil {
		return FiguresChange{}, false, err
	}
	if c.New, c.NewVersion, err = decode(newImage, "new"); err != nil {
		return FiguresChange{}, false, err
	}
	if c.Old == nil && c.New == nil {
		return FiguresChange{}, false, fmt.Errorf("record %s of %s has neither an old nor a new image: the stream must be NEW_AND_OLD_IMAGES", recordID, c.CustomerID)
	}
	return c, true, nil
}
