package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"testing"
)

// The lookup baseline does what a minimal real handler does: it reads the
// row's columns and encodes them, so its answer is the row's columns as
// JSON, read from the table itself.
func TestBaselineLookupEncodesColumns(t *testing.T) {
	ctx := context.Background()
	bl, err := startBaseline(ctx, 50, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	for _, id := range []int64{1, 37, 50} {
		var want lookupRow
		if err := bl.db.QueryRowContext(ctx, `SELECT id, name, data, created_at FROM rows WHERE id = ?`, id).
			Scan(&want.ID, &want.Name, &want.Data, &want.CreatedAt); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(bl.base.String() + "/lookup/" + strconv.FormatInt(id, 10))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var got lookupRow
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if resp.StatusCode != 200 || dec.Decode(&got) != nil {
			t.Fatalf("GET /lookup/%d = %d %q, want the row as JSON", id, resp.StatusCode, body)
		}
		if got != want || got.ID != id || got.Name == "" || got.Data == "" || got.CreatedAt == 0 {
			t.Errorf("row %d answered %+v, the table holds %+v", id, got, want)
		}
		if n := len(body); n < docSize-20 || n > docSize+20 {
			t.Errorf("row %d is %d bytes of JSON, want about %d", id, n, docSize)
		}
	}
	// sqlite.Open's read pool.
	if got, want := bl.db.Stats().MaxOpenConnections, max(4, runtime.GOMAXPROCS(0)); got != want {
		t.Errorf("the baseline reads over %d connections, the store over %d", got, want)
	}
}
