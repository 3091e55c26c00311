package awsenv

import "testing"

func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    int64
		set     bool
		wantErr bool
	}{
		{name: "not in Lambda", env: map[string]string{}},
		// 1024 MB × 0.9 = 921.6 MiB = 966,367,641.6 bytes, truncated.
		{name: "1024 MB function", env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024"}, want: 966367641, set: true},
		// 128 × 0.9 × 1,048,576 = 120,795,955.2.
		{name: "128 MB function", env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}, want: 120795955, set: true},
		{name: "GOMEMLIMIT wins", env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024", "GOMEMLIMIT": "500MiB"}},
		{name: "not a number", env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1GB"}, wantErr: true},
		{name: "zero", env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "0"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, set, err := memoryLimit(func(k string) string { return tc.env[k] })
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error: %v", err, tc.wantErr)
			}
			if got != tc.want || set != tc.set {
				t.Errorf("memoryLimit = %d, %v; want %d, %v", got, set, tc.want, tc.set)
			}
		})
	}
}
