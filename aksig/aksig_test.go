package aksig_test

import (
	"testing"

	"usercenter/aksig"
)

// The example of docs/enterprise.md, computed with sha256sum.
func TestPasswordVector(t *testing.T) {
	u := "ver=1&auth_mode=accessKey&sign_method=sha256&access_key=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&timestamp=1700000000000"
	if got := aksig.Password(u, "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"); got != "377bde10e72af0eeb0544656036e7f8df310448cbbeaec8a9f3bde5fd236b269" {
		t.Fatalf("Password = %s", got)
	}
}
