package export

import "testing"

func TestNeutralise(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"formula", `=HYPERLINK("http://evil.example","click")`, `'=HYPERLINK("http://evil.example","click")`},
		{"DDE", `=cmd|' /C calc'!A0`, `'=cmd|' /C calc'!A0`},
		{"plus", "+1", "'+1"},
		{"negative-looking text", "-2", "'-2"},
		{"minus formula", "-2+3", "'-2+3"},
		{"at", "@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"tab", "\t=1", "'\t'=1"},
		{"tab first, text after", "\tx", "'\tx"},
		{"after a semicolon", "Smith;=1+1", "Smith;'=1+1"},
		{"after a comma", "Smith,+1", "Smith,'+1"},
		{"after a tab", "Smith\t@SUM(A1)", "Smith\t'@SUM(A1)"},
		{"full-width after a semicolon", "a;＝1", "a;'＝1"},
		{"every segment", "=a;-b,@c", "'=a;'-b,'@c"},
		{"operator after a space after a separator stays", "a; =1", "a; =1"},
		{"carriage return", "\r=1", "'\r=1"},
		{"full-width equals", "＝1+1", "'＝1+1"},
		{"full-width plus", "＋1", "'＋1"},
		{"full-width minus", "－1", "'－1"},
		{"full-width at", "＠SUM(A1)", "'＠SUM(A1)"},
		{"empty", "", ""},
		{"plain name", "Alice Smith", "Alice Smith"},
		{"operator later in the text", "a=b+c", "a=b+c"},
		{"e-mail", "alice@contoso.com", "alice@contoso.com"},
		{"quote first stays", "'quoted", "'quoted"},
		{"leading space is text to spreadsheets", " =1", " =1"},
		{"line feed does not start a formula", "\nx", "\nx"},
		{"accents", "Ågot Müller", "Ågot Müller"},
		{"invalid UTF-8 replaced", "ab\xffc", "ab\uFFFDc"},
		{"invalid UTF-8 then formula", "=\xff", "'=\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Neutralise(tt.in); got != tt.want {
				t.Errorf("Neutralise(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
