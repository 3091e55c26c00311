package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// deleteAttempts bounds how often DeleteCustomer re-reads the customer when
// an ingest commits between its read and its delete.
const deleteAttempts = 3

// DeleteCustomer removes a customer: its figures, summary, rank, accepted
// sources and subscriptions go in one transaction (readers see the customer
// whole or not at all), conditioned on the FIGURES version read, so that an
// ingest committing meanwhile makes it read again; then every generation of
// its users, its daily history and its generation counter.
//
// The portfolio roll-up is not touched here: the FIGURES item's removal
// reaches the aggregate function through the table's stream like any other
// change, and its difference (the old figures subtracted, marker
// APPLIED#DEL<v>) is applied exactly once however often the record is
// delivered. For the same reason the customer's APPLIED# markers stay until
// their TTL: a redelivered record of an earlier change must still find its
// marker, or it would be counted again.
//
// A delete that fails half-way is finished by the next call: ErrNotFound
// only when nothing of the customer is left but its markers.
func (s *Store) DeleteCustomer(ctx context.Context, t license.Tenant, customerID string) error {
	pk, err := CustomerPK(t, customerID)
	if err != nil {
		return err
	}
	var rest []map[string]types.AttributeValue // history and counter, deleted last
	var gen, sweptBelow int64
	var current *CustomerFigures
	for attempt := 1; ; attempt++ {
		items, err := s.customerPartition(ctx, pk)
		if err != nil {
			return err
		}
		var heads []map[string]types.AttributeValue // deleted with FIGURES
		var figures map[string]types.AttributeValue
		rest, gen, sweptBelow, current = nil, 0, 0, nil
		for _, item := range items {
			switch sk := stringOf(item, attrSK); {
			case sk == skFigures:
				figures = item
			case sk == skSummary, sk == skRank, sk == skSubscriptions, strings.HasPrefix(sk, skSourcePrefix):
				heads = append(heads, item)
			case sk == skGenCounter:
				if gen, err = intOf(item, attrGeneration); err != nil {
					return err
				}
				if sweptBelow, err = intOf(item, attrSweptBelow); err != nil {
					return err
				}
				rest = append(rest, item)
			case strings.HasPrefix(sk, skDayPrefix), sk == skCollected:
				// skCollected: when the connector last collected it, which
				// a customer created again later must not inherit.
				rest = append(rest, item)
				// RECLAIMSET stays: the stream consumer takes the customer's
				// calendar lines out when the FIGURES removal reaches it,
				// and needs the set to know which (it expires after that).
			}
		}
		if figures == nil && len(heads) == 0 && len(rest) == 0 {
			return ErrNotFound
		}
		if figures != nil {
			if current, err = s.Figures(ctx, t, customerID); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		err = s.deleteHeads(ctx, figures, heads)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrConflict) || attempt == deleteAttempts {
			return fmt.Errorf("deleting customer %s: %w", customerID, err)
		}
	}
	// The users: the current generation's shard count is known; the others
	// not yet swept (abandoned ones) are swept over every shard.
	if current != nil {
		if err := s.DeleteGeneration(ctx, t, customerID, current.Generation, current.Shards); err != nil {
			return err
		}
	}
	for lo := max(sweptBelow, 1); lo <= gen; lo += 1000 {
		if err := s.DeleteGenerations(ctx, t, customerID, lo, min(lo+1000, gen+1)); err != nil {
			return err
		}
	}
	reqs := make([]types.WriteRequest, 0, len(rest))
	for _, item := range rest {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{
			attrPK: item[attrPK], attrSK: item[attrSK],
		}}})
	}
	for lo := 0; lo < len(reqs); lo += batchWriteMax {
		if err := s.batchWrite(ctx, reqs[lo:min(lo+batchWriteMax, len(reqs))]); err != nil {
			return fmt.Errorf("deleting the history of %s: %w", customerID, err)
		}
	}
	return nil
}

// customerPartition lists the keys (and counters) of a customer partition.
func (s *Store) customerPartition(ctx context.Context, pk string) ([]map[string]types.AttributeValue, error) {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ProjectionExpression:      aws.String("PK, SK, #v, #g, #m"),
		ExpressionAttributeNames:  map[string]string{"#v": attrVersion, "#g": attrGeneration, "#m": attrSweptBelow},
		ConsistentRead:            aws.Bool(true),
	})
	var items []map[string]types.AttributeValue
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", pk, err)
		}
		items = append(items, page.Items...)
	}
	return items, nil
}

// deleteHeads deletes FIGURES (conditioned on its version) and the items
// readers see with it, in one transaction.
func (s *Store) deleteHeads(ctx context.Context, figures map[string]types.AttributeValue, heads []map[string]types.AttributeValue) error {
	var actions []types.TransactWriteItem
	if figures != nil {
		del := &types.Delete{
			TableName: &s.table, Key: map[string]types.AttributeValue{attrPK: figures[attrPK], attrSK: figures[attrSK]},
			ConditionExpression:       aws.String("#v = :v"),
			ExpressionAttributeNames:  map[string]string{"#v": attrVersion},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": figures[attrVersion]},
		}
		actions = append(actions, types.TransactWriteItem{Delete: del})
	}
	for _, item := range heads {
		actions = append(actions, types.TransactWriteItem{Delete: &types.Delete{
			TableName: &s.table, Key: map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]},
		}})
	}
	if len(actions) == 0 {
		return nil
	}
	if len(actions) > 100 {
		return fmt.Errorf("%d items to delete at once: more than a transaction takes", len(actions))
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions})
	var cancelled *types.TransactionCanceledException
	if errors.As(err, &cancelled) {
		for _, r := range cancelled.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed", "TransactionConflict":
				return ErrConflict
			}
		}
	}
	var inProgress *types.TransactionInProgressException
	if errors.As(err, &inProgress) {
		return ErrConflict
	}
	return err
}

// CustomerDocuments lists what the tenant stored for one customer outside
// its partition: its uploads and the export jobs of that customer alone
// (an export of every customer is the tenant's, and stays).
func (s *Store) CustomerDocuments(ctx context.Context, t license.Tenant, customerID string) (uploads []Upload, exports []ExportJob, err error) {
	pk, err := tenantPrefix(t)
	if err != nil {
		return nil, nil, err
	}
	for _, prefix := range []string{"UPLOAD#", ExportSKPrefix} {
		p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: pk}, ":prefix": &types.AttributeValueMemberS{Value: prefix},
			},
			ConsistentRead: aws.Bool(true),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("listing the documents of %s: %w", customerID, err)
			}
			for _, item := range page.Items {
				if prefix == ExportSKPrefix {
					job, err := decodeExport(item)
					if err != nil {
						return nil, nil, err
					}
					if job.CustomerID == customerID {
						exports = append(exports, job)
					}
					continue
				}
				var u Upload
				if err := getJSON(item, attrUpload, &u); err != nil {
					return nil, nil, err
				}
				if u.CustomerID == customerID {
					uploads = append(uploads, u)
				}
			}
		}
	}
	return uploads, exports, nil
}

// DeleteUpload and DeleteExport remove one record (its object is the
// caller's to delete first).
func (s *Store) DeleteUpload(ctx context.Context, t license.Tenant, id string) error {
	k, err := UploadKey(t, id)
	if err != nil {
		return err
	}
	_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: keyOf(k)})
	return err
}

// DeleteExport: see DeleteUpload.
func (s *Store) DeleteExport(ctx context.Context, t license.Tenant, id string) error {
	k, err := ExportKey(t, id)
	if err != nil {
		return err
	}
	_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: keyOf(k)})
	return err
}
