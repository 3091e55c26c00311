package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// A user row keeps its attributes under one-letter names: a 100,000-user
// customer is 100,000 items per generation, and DynamoDB bills writes per KB
// of item including attribute names.
//
//	n  display name                     S    (absent when empty)
//	d  deleted                          BOOL (absent when false)
//	e  entitled: holds an entitlement   BOOL (absent when false)
//	l  licences                         L of S "<sku>|<assign date or empty>"
//	w  workloads                        M of workload → S "<L or ->" + last activity date or empty
//
// The licence value is split at its last '|' (a date has none), so any SKU
// text survives; the workload value's first byte is L for licensed, '-' not.
const (
	attrUserName      = "n"
	attrUserDeleted   = "d"
	attrUserEntitled  = "e"
	attrUserLicenses  = "l"
	attrUserWorkloads = "w"
)

// batchWriteMax is DynamoDB's BatchWriteItem limit.
const batchWriteMax = 25

// UserRow is a user as stored in a generation, with the entitled flag the
// ingest computed for it.
type UserRow struct {
	User     license.User
	Entitled bool
}

func encodeUser(pk string, u *license.User, entitled bool) (map[string]types.AttributeValue, error) {
	sk, err := UserSK(u.Key)
	if err != nil {
		return nil, err
	}
	item := make(map[string]types.AttributeValue, 7)
	item[attrPK] = &types.AttributeValueMemberS{Value: pk}
	item[attrSK] = &types.AttributeValueMemberS{Value: sk}
	if u.DisplayName != "" {
		item[attrUserName] = &types.AttributeValueMemberS{Value: u.DisplayName}
	}
	if u.Deleted {
		item[attrUserDeleted] = &types.AttributeValueMemberBOOL{Value: true}
	}
	if entitled {
		item[attrUserEntitled] = &types.AttributeValueMemberBOOL{Value: true}
	}
	if len(u.Licenses) > 0 {
		l := make([]types.AttributeValue, len(u.Licenses))
		for i, x := range u.Licenses {
			l[i] = &types.AttributeValueMemberS{Value: x.SKU + "|" + x.AssignedDate.String()}
		}
		item[attrUserLicenses] = &types.AttributeValueMemberL{Value: l}
	}
	if len(u.Workloads) > 0 {
		w := make(map[string]types.AttributeValue, len(u.Workloads))
		for _, x := range u.Workloads {
			if x.Workload == "" {
				return nil, fmt.Errorf("user %q has a workload with no name", u.Key)
			}
			flag := "-"
			if x.Licensed {
				flag = "L"
			}
			w[string(x.Workload)] = &types.AttributeValueMemberS{Value: flag + x.LastActivity.String()}
		}
		item[attrUserWorkloads] = &types.AttributeValueMemberM{Value: w}
	}
	return item, nil
}

func decodeUser(item map[string]types.AttributeValue) (UserRow, error) {
	sk := stringOf(item, attrSK)
	key, ok := strings.CutPrefix(sk, skUserPrefix)
	if !ok {
		return UserRow{}, fmt.Errorf("item %q is not a user row", sk)
	}
	bad := func(what string, err error) (UserRow, error) {
		return UserRow{}, fmt.Errorf("user row %q: %s: %w", key, what, err)
	}
	r := UserRow{User: license.User{Key: key, DisplayName: stringOf(item, attrUserName)}}
	if b, ok := item[attrUserDeleted].(*types.AttributeValueMemberBOOL); ok {
		r.User.Deleted = b.Value
	}
	if b, ok := item[attrUserEntitled].(*types.AttributeValueMemberBOOL); ok {
		r.Entitled = b.Value
	}
	if l, ok := item[attrUserLicenses].(*types.AttributeValueMemberL); ok {
		r.User.Licenses = make([]license.License, 0, len(l.Value))
		for _, a := range l.Value {
			s, ok := a.(*types.AttributeValueMemberS)
			if !ok {
				return bad("licence", fmt.Errorf("%T is not a string", a))
			}
			i := strings.LastIndexByte(s.Value, '|')
			if i < 0 {
				return bad("licence", fmt.Errorf("%q has no '|'", s.Value))
			}
			d, err := license.ParseDate(s.Value[i+1:])
			if err != nil {
				return bad("licence assign date", err)
			}
			r.User.Licenses = append(r.User.Licenses, license.License{SKU: s.Value[:i], AssignedDate: d})
		}
	}
	if m, ok := item[attrUserWorkloads].(*types.AttributeValueMemberM); ok {
		r.User.Workloads = make([]license.WorkloadUse, 0, len(m.Value))
		for name, a := range m.Value {
			s, ok := a.(*types.AttributeValueMemberS)
			if !ok || s.Value == "" {
				return bad("workload "+name, fmt.Errorf("value %v is not a flag and date", a))
			}
			d, err := license.ParseDate(s.Value[1:])
			if err != nil {
				return bad("workload "+name, err)
			}
			r.User.Workloads = append(r.User.Workloads, license.WorkloadUse{
				Workload: license.Workload(name), Licensed: s.Value[0] == 'L', LastActivity: d,
			})
		}
		// A map has no order; give the workloads one so rows compare equal.
		sortWorkloads(r.User.Workloads)
	}
	return r, nil
}

// sortWorkloads puts the standard workloads first in their order, then the
// others by name (insertion sort: a user has a handful).
func sortWorkloads(w []license.WorkloadUse) {
	rank := func(x license.Workload) int {
		for i, s := range license.StandardWorkloads {
			if s == x {
				return i
			}
		}
		return len(license.StandardWorkloads)
	}
	less := func(a, b license.Workload) bool {
		ra, rb := rank(a), rank(b)
		if ra != rb {
			return ra < rb
		}
		return a < b
	}
	for i := 1; i < len(w); i++ {
		for j := i; j > 0 && less(w[j].Workload, w[j-1].Workload); j-- {
			w[j], w[j-1] = w[j-1], w[j]
		}
	}
}

// WriteUsers writes users (with entitled[i] for users[i]) as generation gen,
// spread over shards, refusing a key that appears twice before anything is
// written. It is a UserWriter over a slice; the ingest, which never holds
// its users, uses a UserWriter.
func (s *Store) WriteUsers(ctx context.Context, t license.Tenant, customerID string, gen int64, shards int, users []license.User, entitled []bool) error {
	if len(entitled) != len(users) {
		return fmt.Errorf("writing users: %d entitled flags for %d users", len(entitled), len(users))
	}
	// Two rows with one key would overwrite each other (or fail a batch):
	// refuse them with a clear message before anything is written.
	seen := make(map[string]struct{}, len(users))
	for i := range users {
		if _, dup := seen[users[i].Key]; dup {
			return fmt.Errorf("writing users: user key %q appears twice", users[i].Key)
		}
		seen[users[i].Key] = struct{}{}
	}
	seen = nil
	w, err := s.NewUserWriter(ctx, t, customerID, gen, shards)
	if err != nil {
		return err
	}
	for i := range users {
		if err := w.Write(&users[i], entitled[i]); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

// UserWriter writes a generation's user rows as they are handed to it:
// each row is encoded at once (nothing of the user is kept) and goes out in
// batches of 25 from the store's workers; items DynamoDB leaves unprocessed
// are retried with jittered exponential backoff. At most two batches per
// worker wait, so memory does not grow with the users written.
//
// It does not prove keys unique (that would hold every key): its callers'
// users are, the parsers refuse a key seen twice (pkg/source) and rows
// read back from a generation have one key each. On error some rows may be
// written: the generation is not current until a Commit names it, and
// DeleteGeneration removes it.
type UserWriter struct {
	pks     []string
	batch   []types.WriteRequest
	batches chan []types.WriteRequest
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once
	err     error
	closed  bool
}

// NewUserWriter starts writing generation gen of the customer's users,
// spread over shards. Close must be called.
func (s *Store) NewUserWriter(ctx context.Context, t license.Tenant, customerID string, gen int64, shards int) (*UserWriter, error) {
	if shards < 1 || shards > MaxShards {
		return nil, fmt.Errorf("writing users: shard count %d is outside 1…%d", shards, MaxShards)
	}
	pks := make([]string, shards)
	for i := range pks {
		pk, err := GenerationPK(t, customerID, gen, i)
		if err != nil {
			return nil, fmt.Errorf("writing users: %w", err)
		}
		pks[i] = pk
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &UserWriter{pks: pks, batches: make(chan []types.WriteRequest, 2*s.workers), ctx: ctx, cancel: cancel}
	for range s.workers {
		w.wg.Go(func() {
			for reqs := range w.batches {
				if w.ctx.Err() != nil {
					continue // drain: an error already stopped the writer
				}
				if err := s.batchWrite(w.ctx, reqs); err != nil {
					w.fail(err)
				}
			}
		})
	}
	return w, nil
}

func (w *UserWriter) fail(err error) {
	w.once.Do(func() { w.err = err; w.cancel() })
}

// Write encodes u's row and queues it; it returns the first error any
// write met so far, after which nothing more is written.
func (w *UserWriter) Write(u *license.User, entitled bool) error {
	if err := w.ctx.Err(); err != nil {
		return w.failure(err)
	}
	item, err := encodeUser(w.pks[ShardOf(u.Key, len(w.pks))], u, entitled)
	if err != nil {
		err = fmt.Errorf("writing users: %w", err)
		w.fail(err)
		return err
	}
	if w.batch == nil {
		w.batch = make([]types.WriteRequest, 0, batchWriteMax)
	}
	w.batch = append(w.batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	if len(w.batch) == batchWriteMax {
		return w.flush()
	}
	return nil
}

func (w *UserWriter) flush() error {
	if len(w.batch) == 0 {
		return nil
	}
	select {
	case w.batches <- w.batch:
		w.batch = nil
		return nil
	case <-w.ctx.Done():
		return w.failure(w.ctx.Err())
	}
}

// failure is the writer's own error if it has one, else err (the caller's
// context ended).
func (w *UserWriter) failure(err error) error {
	w.once.Do(func() { w.err = err; w.cancel() })
	return w.err
}

// Close sends what is left, waits for every batch and returns the first
// error.
func (w *UserWriter) Close() error {
	if !w.closed {
		w.closed = true
		_ = w.flush()
		close(w.batches)
		w.wg.Wait()
		w.once.Do(func() { w.err = w.ctx.Err() })
		w.cancel()
	}
	return w.err
}

func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	delay := s.retryBase
	for attempt := 1; ; attempt++ {
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{s.table: reqs},
		})
		if err != nil {
			return fmt.Errorf("batch write to %s: %w", s.table, err)
		}
		reqs = out.UnprocessedItems[s.table]
		if len(reqs) == 0 {
			return nil
		}
		if attempt == s.retryAttempts {
			return fmt.Errorf("batch write to %s: %d items still unprocessed after %d attempts", s.table, len(reqs), attempt)
		}
		if err := sleep(ctx, delay/2+rand.N(delay/2+1)); err != nil {
			return err
		}
		delay = min(delay*2, s.retryMax)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// parallel runs job(0…n-1) on the store's workers and returns the first
// error; the others are cancelled through their context.
func (s *Store) parallel(ctx context.Context, n int, job func(ctx context.Context, i int) error) error {
	if n == 0 {
		return ctx.Err()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range min(s.workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := job(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// Users streams the current generation's rows, shard by shard and within a
// shard in user key order. ErrNotFound when the customer has no figures.
//
// A generation is deleted soon after the next ingest flips away from it, so
// a long read can lose rows under its feet: Users checks FIGURES again at the
// end and returns ErrGenerationChanged if it moved, so that the caller
// (an export) starts over instead of delivering an incomplete set.
func (s *Store) Users(ctx context.Context, t license.Tenant, customerID string, fn func(UserRow) error) error {
	before, err := s.Figures(ctx, t, customerID)
	if err != nil {
		return err
	}
	if err := s.GenerationUsers(ctx, t, customerID, before.Generation, before.Shards, fn); err != nil {
		return err
	}
	after, err := s.Figures(ctx, t, customerID)
	if err != nil {
		return err
	}
	if after.Generation != before.Generation {
		return fmt.Errorf("%w: generation %d was replaced by %d while it was read", ErrGenerationChanged, before.Generation, after.Generation)
	}
	return nil
}

// readAhead is how many shards GenerationUsers reads at once. The rows
// still reach the caller in shard order; reading ahead overlaps the reads'
// latency with the caller's own work on the rows (an export encodes and
// uploads CSV meanwhile), and each shard is a partition of its own.
const readAhead = 4

// usersPage is one Query page of a shard, decoded, or what stopped it.
type usersPage struct {
	rows []UserRow
	err  error
}

// GenerationUsers streams the rows of one generation, shard by shard (in
// key order within a shard), with strongly consistent reads (rows are
// written just before the flip). Up to readAhead shards are read at once,
// a page or two ahead of fn, so memory stays bounded by a few pages.
// Generation 0 (none yet) has no rows.
func (s *Store) GenerationUsers(ctx context.Context, t license.Tenant, customerID string, gen int64, shards int, fn func(UserRow) error) error {
	if gen == 0 {
		return nil
	}
	pks := make([]string, shards)
	for shard := range pks {
		var err error
		if pks[shard], err = GenerationPK(t, customerID, gen, shard); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()

	pages := make([]chan usersPage, shards)
	for i := range pages {
		pages[i] = make(chan usersPage, 1)
	}
	// A reader holds its slot until its shard is read; the caller takes
	// shards in order, so the one it waits on always has a reader.
	slots := make(chan struct{}, readAhead)
	wg.Go(func() {
		for shard, pk := range pks {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Go(func() {
				defer func() { <-slots }()
				defer close(pages[shard])
				s.readUserPartition(ctx, pk, pages[shard])
			})
		}
	})

	for _, shard := range pages {
		for {
			var page usersPage
			var more bool
			select {
			case page, more = <-shard:
			case <-ctx.Done():
				return ctx.Err()
			}
			if !more {
				// A reader also stops early when the context ends: a
				// shard closed then may lack rows.
				if err := ctx.Err(); err != nil {
					return err
				}
				break
			}
			if page.err != nil {
				return page.err
			}
			for _, row := range page.rows {
				if err := fn(row); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// readUserPartition sends the decoded pages of one user partition to out, then
// stops; the first error is its last page.
func (s *Store) readUserPartition(ctx context.Context, pk string, out chan<- usersPage) {
	send := func(p usersPage) bool {
		select {
		case out <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			send(usersPage{err: fmt.Errorf("reading users of %s: %w", pk, err)})
			return
		}
		rows := make([]UserRow, 0, len(page.Items))
		for _, item := range page.Items {
			row, err := decodeUser(item)
			if err != nil {
				send(usersPage{err: err})
				return
			}
			rows = append(rows, row)
		}
		if !send(usersPage{rows: rows}) {
			return
		}
	}
}

// DeleteGenerations deletes the user rows of generations from…to-1. Their
// shard counts are not known (an abandoned generation never reached
// FIGURES), so every one of the MaxShards partitions is swept; an empty
// partition costs one small Query.
func (s *Store) DeleteGenerations(ctx context.Context, t license.Tenant, customerID string, from, to int64) error {
	from = max(from, 1)
	if to <= from {
		return nil
	}
	if to-from > 1000 {
		return fmt.Errorf("deleting generations %d…%d: more than 1000 at once", from, to-1)
	}
	n := int(to-from) * MaxShards
	return s.parallel(ctx, n, func(ctx context.Context, i int) error {
		pk, err := GenerationPK(t, customerID, from+int64(i/MaxShards), i%MaxShards)
		if err != nil {
			return err
		}
		return s.deletePartition(ctx, pk)
	})
}

// DeleteGeneration deletes the user rows of generation gen, whose shard
// count is known (the current generation's, recorded on FIGURES, or one the
// caller wrote itself): one sweep per shard instead of MaxShards.
func (s *Store) DeleteGeneration(ctx context.Context, t license.Tenant, customerID string, gen int64, shards int) error {
	if shards < 1 || shards > MaxShards {
		return fmt.Errorf("deleting generation %d: shard count %d is outside 1…%d", gen, shards, MaxShards)
	}
	return s.parallel(ctx, shards, func(ctx context.Context, shard int) error {
		pk, err := GenerationPK(t, customerID, gen, shard)
		if err != nil {
			return err
		}
		return s.deletePartition(ctx, pk)
	})
}

// attrSweptBelow, on the GENCOUNTER item, is the low-water mark of the
// sweeps: every generation below it is known to be deleted.
const attrSweptBelow = "sweptBelow"

// SweepGenerations deletes every generation below current (the generation
// the caller has just committed) that an earlier sweep has not already
// deleted, then raises the low-water mark to current. knownShards gives the
// shard count of generations the caller knows (the one it replaced); the
// others (abandoned, never committed) are swept over all MaxShards.
//
// Every generation below the committed one is dead: generation numbers are
// taken after the state is read, so a lower one belongs to a replaced state
// or to an ingest whose commit must fail its version check. Because the mark
// only moves after a complete sweep, a sweep that fails or never runs (a
// crash right after the commit) is made up by the next one.
func (s *Store) SweepGenerations(ctx context.Context, t license.Tenant, customerID string, current int64, knownShards map[int64]int) error {
	k, err := GenCounterKey(t, customerID)
	if err != nil {
		return err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: keyOf(k), ConsistentRead: aws.Bool(true),
		ProjectionExpression:     aws.String("#m"),
		ExpressionAttributeNames: map[string]string{"#m": attrSweptBelow},
	})
	if err != nil {
		return fmt.Errorf("reading the sweep mark of %s: %w", customerID, err)
	}
	from, err := intOf(out.Item, attrSweptBelow)
	if err != nil {
		return err
	}
	from = max(from, 1)
	if current <= from {
		return nil
	}
	for gen := from; gen < current; gen++ {
		if shards, ok := knownShards[gen]; ok {
			err = s.DeleteGeneration(ctx, t, customerID, gen, shards)
		} else {
			err = s.DeleteGenerations(ctx, t, customerID, gen, gen+1)
		}
		if err != nil {
			return err
		}
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       keyOf(k),
		UpdateExpression:          aws.String("SET #m = :c"),
		ConditionExpression:       aws.String("attribute_not_exists(#m) OR #m < :c"),
		ExpressionAttributeNames:  map[string]string{"#m": attrSweptBelow},
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": numberAttr(current)},
	})
	var raced *types.ConditionalCheckFailedException
	if errors.As(err, &raced) {
		return nil // a later sweep already moved the mark further
	}
	if err != nil {
		return fmt.Errorf("moving the sweep mark of %s: %w", customerID, err)
	}
	return nil
}

// deletePartition deletes every item of one partition, page by page.
func (s *Store) deletePartition(ctx context.Context, pk string) error {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ProjectionExpression:      aws.String("PK, SK"),
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing %s for deletion: %w", pk, err)
		}
		for lo := 0; lo < len(page.Items); lo += batchWriteMax {
			hi := min(lo+batchWriteMax, len(page.Items))
			reqs := make([]types.WriteRequest, 0, hi-lo)
			for _, item := range page.Items[lo:hi] {
				reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{
					attrPK: item[attrPK], attrSK: item[attrSK],
				}}})
			}
			if err := s.batchWrite(ctx, reqs); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrGenerationChanged: the generation being read was replaced meanwhile.
var ErrGenerationChanged = errors.New("the customer's users changed while they were read")
