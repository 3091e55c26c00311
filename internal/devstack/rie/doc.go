// Package rie proves the sample events under events/ the way `sam local
// invoke -e events/X.json` would: its test builds every function's
// bootstrap for Linux, runs each under the AWS Lambda Runtime Interface
// Emulator (the program inside SAM's and Lambda's container images) against
// a local stack with a small demo portfolio, and checks each event's
// answer. It has no code outside the test.
package rie
