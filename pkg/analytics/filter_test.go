package analytics

import (
	"errors"
	"strings"
	"testing"
)

// row is a usage row with the given text fields.
func row(fields map[Field]string) Row {
	var r Row
	for f, v := range fields {
		r.values[f] = v
	}
	return r
}

// The rows every grammar case is evaluated on; the case lists which of them
// it must keep (by name).
var grammarRows = map[string]Row{
	"exo-own":   row(map[Field]string{CustomerName: "Contoso", WorkloadCode: "EXO", Channel: "own", ServiceCode: "O365"}),
	"spo-own":   row(map[Field]string{CustomerName: "Contoso", WorkloadCode: "SPO", Channel: "own", ServiceCode: "O365"}),
	"exo-dir":   row(map[Field]string{CustomerName: "Fabrikam", WorkloadCode: "EXO", Channel: "direct", ServiceCode: "O365"}),
	"sfb-null":  row(map[Field]string{CustomerName: "O'Brien Ltd", WorkloadCode: "SFB", ServiceCode: "O365"}),
	"teams-own": row(map[Field]string{CustomerName: `Say "Hi" Inc`, WorkloadCode: "TEAMS", Channel: "own", ServiceCode: "O365"}),
}

func TestFilterGrammar(t *testing.T) {
	cases := []struct {
		name   string
		filter string
		keep   string // names of the kept rows, space-separated, sorted
	}{
		{"empty filter keeps all", "", "exo-dir exo-own sfb-null spo-own teams-own"},
		{"blank filter keeps all", "   ", "exo-dir exo-own sfb-null spo-own teams-own"},
		{"eq", "workloadCode eq 'EXO'", "exo-dir exo-own"},
		{"ne", "workloadCode ne 'EXO'", "sfb-null spo-own teams-own"},
		{"double quotes", `workloadCode eq "SPO"`, "spo-own"},
		{"values ignore case", "workloadCode eq 'exo'", "exo-dir exo-own"},
		{"field names and keywords ignore case", "WORKLOADCODE EQ 'SFB' OR channel Eq 'direct'", "exo-dir sfb-null"},
		{"doubled single quote is a quote", "customerName eq 'O''Brien Ltd'", "sfb-null"},
		{"doubled double quote is a quote", `customerName eq "Say ""Hi"" Inc"`, "teams-own"},
		{"other quote inside needs no escape", `customerName eq "O'Brien Ltd"`, "sfb-null"},
		{"null matches a missing value", "channel eq null", "sfb-null"},
		{"ne null matches a present value", "channel ne null", "exo-dir exo-own spo-own teams-own"},
		{"quoted 'null' is text, not null", "channel eq 'null'", ""},
		// and binds tighter than or: A or (B and C). Parsed as (A or B) and C
		// it would drop sfb-null (channel null) and keep spo-own.
		{"and binds tighter than or", "workloadCode eq 'SFB' or workloadCode eq 'EXO' and channel eq 'own'", "exo-own sfb-null"},
		{"and binds tighter than or (other side)", "channel eq 'own' and workloadCode eq 'EXO' or workloadCode eq 'SFB'", "exo-own sfb-null"},
		{"parentheses override precedence", "(workloadCode eq 'SFB' or workloadCode eq 'EXO') and channel eq 'own'", "exo-own"},
		{"nested parentheses", "((workloadCode eq 'EXO')) and (channel eq 'direct' or (customerName eq 'nobody'))", "exo-dir"},
		{"Partner Center example", "serviceCode eq 'O365' or (channel eq 'Reseller')", "exo-dir exo-own sfb-null spo-own teams-own"},
		{"chain of and", "serviceCode eq 'O365' and channel eq 'own' and workloadCode ne 'EXO'", "spo-own teams-own"},
		{"chain of or", "workloadCode eq 'SPO' or workloadCode eq 'SFB' or workloadCode eq 'TEAMS'", "sfb-null spo-own teams-own"},
		{"no spaces around parentheses", "(channel eq'own')and(workloadCode eq'SPO')", "spo-own"},
		{"value with spaces and unicode", "customerName eq 'Ünïcode Straße'", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := ParseFilter(Usage, c.filter)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", c.filter, err)
			}
			var kept []string
			for _, name := range sortedKeys(grammarRows) {
				r := grammarRows[name]
				if f.Match(&r) {
					kept = append(kept, name)
				}
			}
			if got := strings.Join(kept, " "); got != c.keep {
				t.Errorf("filter %q kept %q, want %q", c.filter, got, c.keep)
			}
		})
	}
}

func TestFilterErrors(t *testing.T) {
	cases := []struct {
		name    string
		dataset *Dataset
		filter  string
		pos     int
		reason  string // a part of the reason
	}{
		{"unknown field", Usage, "colour eq 'red'", 1, `unknown field "colour"`},
		{"unknown field after and", Usage, "channel eq 'own' and colour eq 'red'", 22, `unknown field "colour"`},
		{"workload field on deployment rows", Deployment, "workloadCode eq 'EXO'", 1, `deployment rows can be filtered on customerTenantId`},
		{"measure is not filterable", Deployment, "licensesSold eq '10'", 1, `unknown field "licensesSold"`},
		{"unsupported operator", Usage, "workloadCode gt 'EXO'", 14, `operator "gt" is not supported`},
		{"missing operator", Usage, "workloadCode 'EXO'", 14, "expected eq or ne after workloadCode"},
		{"missing value", Usage, "workloadCode eq", 16, "expected a quoted value"},
		{"unquoted value", Usage, "channel eq own", 12, `must be quoted: 'own'`},
		{"number value", Usage, "channel eq 10", 12, "must be quoted"},
		{"unterminated quote", Usage, "channel eq 'own", 12, "not closed"},
		{"unterminated after doubled quote", Usage, "channel eq 'it''s", 12, "not closed"},
		{"unclosed parenthesis", Usage, "(channel eq 'own'", 1, "never closed"},
		{"unmatched close", Usage, "channel eq 'own')", 17, "unmatched ')'"},
		{"empty parentheses", Usage, "()", 2, "empty parentheses"},
		{"dangling and", Usage, "channel eq 'own' and", 21, "expected a field name or '('"},
		{"leading or", Usage, "or channel eq 'own'", 1, "expected a comparison"},
		{"double and", Usage, "channel eq 'own' and and workloadCode eq 'EXO'", 22, "expected a comparison"},
		{"two comparisons without connective", Usage, "channel eq 'own' workloadCode eq 'EXO'", 18, "expected 'and', 'or' or the end"},
		{"stray character", Usage, "channel = 'own'", 9, "unexpected character '='"},
		{"value where field expected", Usage, "'own' eq channel", 1, "expected a field name"},
		{"positions count characters, not bytes", Usage, "customerName eq 'Ü' and ü eq 'x'", 25, `unknown field "ü"`},
		{"too deep", Usage, strings.Repeat("(", MaxFilterDepth+1) + "channel eq 'own'" + strings.Repeat(")", MaxFilterDepth+1), MaxFilterDepth + 1, "nest deeper"},
		{"too long", Usage, "channel eq '" + strings.Repeat("x", MaxFilterLength) + "'", 0, "longer than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := ParseFilter(c.dataset, c.filter)
			if err == nil {
				t.Fatalf("ParseFilter(%q) = %v, want an error", c.filter, f)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if e.Param != "filter" || e.Position != c.pos || !strings.Contains(e.Reason, c.reason) {
				t.Errorf("error = %+v\nwant param filter, position %d, reason containing %q", e, c.pos, c.reason)
			}
			if c.pos > 0 && !strings.Contains(err.Error(), "position") {
				t.Errorf("message %q does not say the position", err.Error())
			}
		})
	}
}

// The depth limit lets exactly MaxFilterDepth levels through.
func TestFilterDepthLimitIsExact(t *testing.T) {
	text := strings.Repeat("(", MaxFilterDepth) + "channel eq 'own'" + strings.Repeat(")", MaxFilterDepth)
	if _, err := ParseFilter(Usage, text); err != nil {
		t.Fatalf("%d levels: %v", MaxFilterDepth, err)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
