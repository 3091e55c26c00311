package app

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/config"
)

// TestFunctionsAreTheTemplates holds Functions to template.yaml: every
// function but the authorizer (built apart, without clients) has exactly
// one constructor, so the local stack hosts every function Lambda runs.
func TestFunctionsAreTheTemplates(t *testing.T) {
	tmpl, err := infra.RepoTemplate()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range tmpl.Functions() {
		if f.LogicalID != "AuthorizerFunction" {
			want = append(want, f.LogicalID)
		}
	}
	var got []string
	for id := range Functions() {
		got = append(got, id)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Functions() = %v, template.yaml's functions without the authorizer = %v", got, want)
	}
}

// TestConstructorsNameWhatIsMissing: a function started without its table
// or bucket fails at start-up naming the variable to set.
func TestConstructorsNameWhatIsMissing(t *testing.T) {
	usesBucket := map[string]bool{"IngestFunction": true, "ExportFunction": true, "ExportWorkerFunction": true, "CollectFunction": true, "CollectorFunction": true}
	db := dynamodb.New(dynamodb.Options{})
	for id, newFunc := range Functions() {
		if _, err := newFunc(&awsenv.Env{}, config.Default()); err == nil || !strings.Contains(err.Error(), "TABLE_NAME") {
			t.Errorf("%s without a table: error %v, want one naming TABLE_NAME", id, err)
		}
		_, err := newFunc(&awsenv.Env{DynamoDB: db, Table: "t"}, config.Default())
		if usesBucket[id] && (err == nil || !strings.Contains(err.Error(), "BUCKET_NAME")) {
			t.Errorf("%s without a bucket: error %v, want one naming BUCKET_NAME", id, err)
		}
		if !usesBucket[id] && err != nil {
			t.Errorf("%s needs no bucket, but: %v", id, err)
		}
		if _, err := newFunc(&awsenv.Env{DynamoDB: db, S3: s3.New(s3.Options{}), Table: "t", Bucket: "b"}, config.Default()); err != nil {
			t.Errorf("%s with a table and a bucket: %v", id, err)
		}
	}
}

// TestAuthorizerTakesItsRulesFromTheConfiguration: the issuer and audience
// come from config (OIDC_ISSUER, OIDC_AUDIENCE), not from clients.
func TestAuthorizerTakesItsRulesFromTheConfiguration(t *testing.T) {
	if _, err := Authorizer(config.Default()); err == nil || !strings.Contains(err.Error(), "OIDC_ISSUER") {
		t.Errorf("Authorizer without an issuer: error %v, want one naming OIDC_ISSUER", err)
	}
	cfg, err := config.FromEnv(func(name string) string {
		return map[string]string{"OIDC_ISSUER": "https://login.example/tenant/v2.0", "OIDC_AUDIENCE": "api://license-insights"}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Authorizer(cfg); err != nil {
		t.Errorf("Authorizer with issuer and audience: %v", err)
	}
}
