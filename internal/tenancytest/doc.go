// Package tenancytest proves tenant isolation end to end: on the local stack
// (the template's routes behind the local API gateway, every function
// hosted in-process, real DynamoDB Local and S3 server), two tenants hold
// customers with the same ids and different data, and every route of
// template.yaml is called as the wrong tenant. The answer is a 404 that
// reads exactly like the one for an id that exists nowhere, or, for lists
// and aggregates, the caller's own data and nothing else; writes by one
// tenant leave the other's figures byte for byte as they were.
//
// The package holds tests only. A route added to template.yaml without a
// cross-tenant case here fails TestEveryRouteHasACrossTenantCase.
package tenancytest
