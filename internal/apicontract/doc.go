// Package apicontract holds openapi.yaml to what the API really answers.
//
// On the local stack — template.yaml's routes behind the local gateway,
// which puts the authorizer context on every event, each function hosted
// in-process, DynamoDB Local and versitygw — one tenant gets a few
// customers (native snapshots through POST /v1/customers/{id}/reports, one
// of them through a presigned upload), export jobs that run to their end,
// and a portfolio roll-up that has caught up. Then every route of
// template.yaml is called with well-formed requests and with the documented
// errors (bad parameters, unknown ids, the wrong role, no token), and every
// answer's status is asserted and its body validated against openapi.yaml
// for that status (internal/openapi). Each success body is also shown to
// be refused once it carries a field the description does not have, so a
// schema that quietly accepts anything fails too.
//
// The package holds tests only. A route added to template.yaml without a
// case here fails TestEveryRouteHasAContractCase; a documented answer that
// the suite never provokes fails TestResponsesMatchOpenAPI, unless it is
// listed, with the reason, as one the local stack cannot give.
package apicontract
