// Package collectit holds the collection's integration tests: the
// connector (pkg/collect) against the Microsoft emulator
// (internal/msemulator), writing under uploads/ on the S3 server, the
// ingest taking each object from its "Object Created" event, and the run's
// outcomes in DynamoDB Local.
package collectit
