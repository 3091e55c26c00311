package rollup

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// Deleting customers (store.DeleteCustomer, what DELETE /v1/customers/{id}
// runs) keeps the roll-up exactly the sum of the remaining customers'
// FIGURES, read back from the table: the removals reach the aggregate
// function through the stream like any change, and replaying every record
// (twice, the second time in reverse) counts nothing twice. Of a deleted
// customer only the roll-up's APPLIED# markers remain.
func TestDeleteCustomerKeepsThePortfolioExact(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "tenant-delete")
	figures := generated(t, 11, 8)
	ids := f.commitNew(t, figures[:6])
	// One customer changes once, so its delete removes version 2.
	next := *figures[6]
	next.Customer = figures[0].Customer
	f.commit(t, &next, 1)
	first := f.deliver(t)
	f.assertSum(t, ids, "before the deletes")

	gone := []string{ids[0], ids[3]}
	for _, id := range gone {
		if err := f.store.DeleteCustomer(t.Context(), f.tenant, id); err != nil {
			t.Fatal(err)
		}
		// A second delete finds nothing left.
		if err := f.store.DeleteCustomer(t.Context(), f.tenant, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleting %s again: %v", id, err)
		}
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return slices.Contains(gone, id) })
	second := f.deliver(t)
	removes := 0
	for _, r := range second {
		if r.EventName == "REMOVE" {
			removes++
		}
	}
	if removes != 2 || len(second) != 2 {
		t.Fatalf("the deletes gave %d records, %d removals; want 2 removals only", len(second), removes)
	}
	f.assertSum(t, ids, "after deleting 2 of 6 customers")

	f.replayAll(t, ids, first, second)

	for _, id := range gone {
		pk, _ := store.CustomerPK(f.tenant, id)
		out, err := f.db.Query(t.Context(), &dynamodb.QueryInput{
			TableName: aws.String(f.table), KeyConditionExpression: aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Items) == 0 {
			t.Fatalf("%s: no APPLIED# marker left (a replay would count its records again)", id)
		}
		for _, item := range out.Items {
			sk := item["SK"].(*types.AttributeValueMemberS).Value
			switch {
			case strings.HasPrefix(sk, "APPLIED#"):
			case sk == "RECLAIMSET":
				// The reclaim calendar's tombstone: the removal took the
				// customer's lines out, and it expires (TTL) like the
				// markers, once no replay can come.
				removed, _ := item["removed"].(*types.AttributeValueMemberBOOL)
				_, expires := item["expiresAt"]
				if removed == nil || !removed.Value || !expires {
					t.Errorf("%s: RECLAIMSET left after the delete is not an expiring tombstone: %v", id, item)
				}
			default:
				t.Errorf("%s: %s is left after the delete", id, sk)
			}
		}
	}
}
