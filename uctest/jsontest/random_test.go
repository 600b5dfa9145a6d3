package jsontest

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

func TestRandomDocumentValid(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		if d := RandomDocument(rng, []string{"a", "A", "UserId"}, 4); !json.Valid(d) {
			t.Fatalf("invalid document %q", d)
		}
	}
}
