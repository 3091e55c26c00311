package source

import (
	"io"
	"strings"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// organization reads Graph's GET /organization answer ({"@odata.context":
// …, "value": [ {id, displayName, verifiedDomains: [{name, isDefault,
// isInitial}], …} ]}): the customer's name, its Entra tenant id and
// verified domains (docs/definitions.md#sources, 6). It carries neither users nor
// subscriptions; a customer known only from Graph is named from it.
func (p *parser) organization(r io.Reader) error {
	err := p.list(r, func(rec *record, o object) error {
		id, ok1 := rec.str(o, "id", true)
		name, ok2 := rec.str(o, "displayName", true)
		var domains []string
		switch v := o.get("verifiedDomains").(type) {
		case nil:
		case []any:
			for i, d := range v {
				dom, ok := rec.asObject(d, append(o.path("verifiedDomains"), i))
				if !ok {
					continue
				}
				if n, ok := rec.str(dom, "name", false); ok && n != "" {
					domains = append(domains, n)
				}
			}
		default:
			rec.problem(o.path("verifiedDomains"), "must be an array, not %s", describe(v))
		}
		if !ok1 || !ok2 || rec.bad() {
			return nil
		}
		if p.doc.Customer != nil {
			rec.problem(nil, "a second organization: one document describes one customer's tenant")
			return nil
		}
		p.doc.Customer = &license.Customer{Name: strings.TrimSpace(name), TenantID: strings.ToLower(strings.TrimSpace(id))}
		p.doc.Domains = domains
		return nil
	})
	if err != nil {
		return err
	}
	if p.doc.Customer == nil && p.invalid.Total == 0 {
		p.fail(Problem{Line: 1, Reason: `no organization found: want Graph's GET /organization answer, {"value": [{"id": …, "displayName": …}]}`})
	}
	return nil
}
