package store

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// UserItem is the item WriteUsers stores for u in partition pk (a
// GenerationPK). The benchmark's reference loop uses it to write the very
// same items with bare BatchWriteItem calls: the ceiling WriteUsers is
// measured against.
func UserItem(pk string, u *license.User, entitled bool) (map[string]types.AttributeValue, error) {
	return encodeUser(pk, u, entitled)
}
