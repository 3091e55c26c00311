package infra

import (
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// LogicalIDs returns the logical ids of the template's resources of type
// typ (for example AWS::S3::Bucket), in template order. The local stack
// uses them to give !Ref of the table and the bucket their local names.
func (t *Template) LogicalIDs(typ string) ([]string, error) {
	data, err := os.ReadFile(t.path)
	if err != nil {
		return nil, fmt.Errorf("devstack: reading the template: %w", err)
	}
	var doc struct {
		Resources yaml.Node `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("devstack: %s: %w", t.path, err)
	}
	r := reader{path: t.path}
	var ids []string
	for _, res := range r.pairs(&doc.Resources) {
		if v := r.get(res.value, "Type"); v != nil && v.Kind == yaml.ScalarNode && v.Value == typ {
			ids = append(ids, res.key)
		}
	}
	return ids, nil
}
