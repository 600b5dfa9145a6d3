package core_test

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/unicode/norm"

	"usercenter"
	"usercenter/core"
	"usercenter/vault"
)

// legacyUser is a user whose email the first rules stored: trimmed and
// lower-cased by Unicode's rules, indexed as stored.
type legacyUser struct {
	name   string
	stored string
	// finds are lookups that must find the user before, during and after
	// the migration: the stored form and its ASCII case variants. (Not
	// of an ASCII letter before a combining mark: NFC composes E and an
	// acute accent into É, which is no longer ASCII.)
	finds []string
	// findsAfter are lookups that find the user once its index follows
	// the current rules (a composed form of a decomposed address).
	findsAfter []string
	// refused is set for a stored value the current rules refuse: it
	// stays stored, but no lookup can ask for it.
	refused bool
	id      string
}

func legacyUsers() []*legacyUser {
	return []*legacyUser{
		// Typed "  Mu.Zhiming@Tencent.COM ".
		{name: "ascii", stored: "mu.zhiming@tencent.com", finds: []string{"mu.zhiming@tencent.com", "MU.Zhiming@TENCENT.com"}},
		// Typed "ÄÖÜ@Beispiel.DE".
		{name: "umlaut", stored: "äöü@beispiel.de", finds: []string{"äöü@beispiel.de", "äöü@BEISPIEL.DE"}},
		// Typed "İSTANBUL@x.com": Unicode lower-cases İ to i and a combining dot.
		{name: "turkish", stored: "i\u0307stanbul@x.com", finds: []string{"i\u0307stanbul@x.com", "i\u0307STANBUL@X.COM"}},
		// Typed decomposed: stored so, not in NFC.
		{name: "decomposed", stored: "cafe\u0301@x.com", finds: []string{"cafe\u0301@x.com", "Cafe\u0301@X.COM"}, findsAfter: []string{"caf\u00e9@x.com", "CAF\u00e9@x.com"}},
		{name: "decomposed domain", stored: "n@man\u0303ana.es", finds: []string{"n@man\u0303ana.es", "N@Man\u0303ana.ES"}, findsAfter: []string{"n@ma\u00f1ana.es"}},
		// A local part the current rules find too long.
		{name: "long local part", stored: strings.Repeat("a", 70) + "@x.com", refused: true},
	}
}

// TestEmailIndexMigration builds a database whose emails were indexed by
// the first rules, and checks that every user stays findable before the
// migration, after each of its batches, across a restart in the middle,
// and after it; that the stored values stay as they were; and that it is
// idempotent.
func TestEmailIndexMigration(t *testing.T) {
	masterKey := vault.NewKey()
	in := newInstance(t, masterKey)
	app, apiKey, err := in.svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "legacy"})
	if err != nil {
		t.Fatal(err)
	}
	actor := apiKey.Actor()
	legacy := legacyUsers()
	var plain []*usercenter.User
	for i := range 5 {
		email := "plain" + string(rune('a'+i)) + "@example.com"
		plain = append(plain, mustUser(t, in.svc, actor, app.SdkAppID, personal("plain", "", email, "")))
	}
	for _, l := range legacy {
		u := mustUser(t, in.svc, actor, app.SdkAppID, personal(l.name, "", "placeholder@example.com", ""))
		l.id = u.ID
	}
	// Write what the first rules wrote, directly through the store, and
	// forget that the indexes were current, as a database of an older
	// release never knew.
	err = in.store.Update(bg, func(tx core.Tx) error {
		for _, l := range legacy {
			if err := tx.UpdateSealed(bg, core.SealedValue{Kind: core.SealedUserEmail, RowKey: l.id, Value: in.svc.SealForTest(l.id, usercenter.FieldEmail, l.stored)}); err != nil {
				return err
			}
			if err := tx.SetEmailIndex(bg, l.id, in.svc.RawIndexForTest(app.SdkAppID, usercenter.FieldEmail, l.stored)); err != nil {
				return err
			}
		}
		return tx.SetMeta(bg, core.MetaEmailIndexVersion, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	in.store.Close()
	// The new release starts.
	in, err = openInstance(t, in.db, mustRing(t, masterKey))
	if err != nil {
		t.Fatal(err)
	}

	find := func(svc *core.Service, email string) ([]string, error) {
		page, err := svc.ListUsers(bg, actor, core.UserQuery{SdkAppID: app.SdkAppID, Email: email, Limit: 10})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, u := range page.Users {
			ids = append(ids, u.ID)
		}
		return ids, nil
	}
	findable := func(t *testing.T, svc *core.Service, phase string, after bool) {
		t.Helper()
		for _, l := range legacy {
			lookups := l.finds
			if after {
				lookups = append(slices.Clip(lookups), l.findsAfter...)
			}
			for _, email := range lookups {
				ids, err := find(svc, email)
				if err != nil || len(ids) != 1 || ids[0] != l.id {
					t.Errorf("%s: lookup of %s user by %q = %v, %v; want %s", phase, l.name, email, ids, err, l.id)
				}
			}
			if l.refused {
				_, err := find(svc, l.stored)
				wantCode(t, err, usercenter.EInvalid)
			}
		}
		for i, u := range plain {
			email := "PLAIN" + string(rune('A'+i)) + "@Example.com"
			if ids, err := find(svc, email); err != nil || len(ids) != 1 || ids[0] != u.ID {
				t.Errorf("%s: lookup by %q = %v, %v; want %s", phase, email, ids, err, u.ID)
			}
		}
	}

	findable(t, in.svc, "before", false)

	// Two batches of two, then a restart, then the rest.
	var partial core.EmailIndexReport
	for i := range 2 {
		done, rep, err := in.svc.MigrateEmailIndexBatchForTest(bg, 2)
		if err != nil || done {
			t.Fatalf("batch %d: done %v, %v; want more to do", i, done, err)
		}
		partial.Reindexed += rep.Reindexed
		partial.Current += rep.Current
		partial.Nonconforming += rep.Nonconforming
		findable(t, in.svc, "during", false)
	}
	// A user changed while the migration runs is indexed by the current
	// rules, and stays findable.
	decomposed := legacy[3]
	if _, err := in.svc.UpdateUser(bg, actor, decomposed.id, core.UserPatch{Nickname: ptr("changed")}); err != nil {
		t.Fatal(err)
	}
	findable(t, in.svc, "during, after an update", false)
	in.store.Close()
	in, err = openInstance(t, in.db, mustRing(t, masterKey))
	if err != nil {
		t.Fatal(err)
	}
	findable(t, in.svc, "after a restart in the middle", false)
	rest, err := in.svc.MigrateEmailIndex(bg)
	if err != nil {
		t.Fatal(err)
	}
	total := len(plain) + len(legacy)
	if got := partial.Reindexed + partial.Current + rest.Reindexed + rest.Current; got != total || rest.AlreadyDone {
		t.Errorf("the migration went over %d emails (%+v, then %+v), want each of the %d once", got, partial, rest, total)
	}
	// The decomposed users needed new indexes (one of them was
	// re-indexed by its update); the others were current already.
	if reindexed := partial.Reindexed + rest.Reindexed; reindexed < 1 || reindexed > 2 {
		t.Errorf("re-indexed %d emails, want the decomposed ones", reindexed)
	}
	if n := partial.Nonconforming + rest.Nonconforming; n != 1 {
		t.Errorf("%d nonconforming emails, want 1", n)
	}
	findable(t, in.svc, "after", true)
	// An update of a user stored under the first rules keeps the index
	// the current rules give its stored value.
	for _, l := range legacy {
		if _, err := in.svc.UpdateUser(bg, actor, l.id, core.UserPatch{Nickname: ptr("changed after")}); err != nil {
			t.Fatal(err)
		}
	}
	findable(t, in.svc, "after, and an update", true)

	// Stored values stay as they were stored.
	for _, l := range legacy {
		u, err := in.svc.GetUser(bg, actor, l.id, []usercenter.PIIField{usercenter.FieldEmail})
		if err != nil || u.Email != l.stored {
			t.Errorf("%s user's email reads %q, %v; want %q as stored", l.name, u.Email, err, l.stored)
		}
	}

	// Once finished, the current rules alone decide: an address that
	// differs from a stored one beyond ASCII case is another address.
	newUmlaut := mustUser(t, in.svc, actor, app.SdkAppID, personal("new", "", "ÄÖÜ@beispiel.de", ""))
	newTurkish := mustUser(t, in.svc, actor, app.SdkAppID, personal("new", "", "İSTANBUL@x.com", ""))
	newPlainI := mustUser(t, in.svc, actor, app.SdkAppID, personal("new", "", "istanbul@x.com", ""))
	for _, c := range []struct {
		email string
		want  string
	}{
		{"ÄÖÜ@BEISPIEL.DE", newUmlaut.ID},
		{"äöü@beispiel.de", legacy[1].id},
		{"İSTANBUL@X.COM", newTurkish.ID},
		{"İstanbul@x.com", newTurkish.ID},
		{"ISTANBUL@x.com", newPlainI.ID},
		{"i\u0307stanbul@x.com", legacy[2].id},
	} {
		if ids, err := find(in.svc, c.email); err != nil || len(ids) != 1 || ids[0] != c.want {
			t.Errorf("after: lookup by %q = %v, %v; want only %s", c.email, ids, err, c.want)
		}
	}

	// Idempotent: done is done, and a forced second run changes nothing.
	if rep, err := in.svc.MigrateEmailIndex(bg); err != nil || !rep.AlreadyDone || rep.Reindexed != 0 {
		t.Errorf("second run = %+v, %v; want already done", rep, err)
	}
	if err := in.store.Update(bg, func(tx core.Tx) error { return tx.SetMeta(bg, core.MetaEmailIndexVersion, nil) }); err != nil {
		t.Fatal(err)
	}
	in.store.Close()
	in, err = openInstance(t, in.db, mustRing(t, masterKey))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := in.svc.MigrateEmailIndex(bg)
	if err != nil || rep.AlreadyDone || rep.Reindexed != 0 || rep.Current != total+3 || rep.Nonconforming != 1 {
		t.Errorf("forced rerun = %+v, %v; want all %d current, 1 nonconforming", rep, err, total+3)
	}
	findable(t, in.svc, "after a rerun", true)
}

// A database that a release with the current rules created never needs
// the migration.
func TestEmailIndexCurrentOnANewDatabase(t *testing.T) {
	in := newInstance(t, vault.NewKey())
	rep, err := in.svc.MigrateEmailIndex(bg)
	if err != nil || !rep.AlreadyDone {
		t.Fatalf("MigrateEmailIndex on a new database = %+v, %v; want already done", rep, err)
	}
}

// Two nodes migrating at once share the work: each batch starts where the
// last committed one ended, so every email is re-indexed exactly once.
func TestEmailIndexMigrationConcurrent(t *testing.T) {
	masterKey := vault.NewKey()
	in := newInstance(t, masterKey)
	app, apiKey, err := in.svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "legacy"})
	if err != nil {
		t.Fatal(err)
	}
	actor := apiKey.Actor()
	const n = 13
	stored := map[string]string{} // UserId → email as the first rules stored it
	for i := range n {
		u := mustUser(t, in.svc, actor, app.SdkAppID, personal("u", "", "placeholder@example.com", ""))
		stored[u.ID] = "cafe\u0301" + strconv.Itoa(i) + "@x.com" // not NFC: its index changes
	}
	err = in.store.Update(bg, func(tx core.Tx) error {
		for id, email := range stored {
			if err := tx.UpdateSealed(bg, core.SealedValue{Kind: core.SealedUserEmail, RowKey: id, Value: in.svc.SealForTest(id, usercenter.FieldEmail, email)}); err != nil {
				return err
			}
			if err := tx.SetEmailIndex(bg, id, in.svc.RawIndexForTest(app.SdkAppID, usercenter.FieldEmail, email)); err != nil {
				return err
			}
		}
		return tx.SetMeta(bg, core.MetaEmailIndexVersion, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	in.store.Close()

	var nodes []*instance
	for range 2 {
		node, err := openInstance(t, in.db, mustRing(t, masterKey))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { node.store.Close() })
		nodes = append(nodes, node)
	}
	reports := make([]core.EmailIndexReport, len(nodes))
	errs := make(chan error, len(nodes))
	var wg sync.WaitGroup
	for i, node := range nodes {
		wg.Go(func() {
			for {
				done, rep, err := node.svc.MigrateEmailIndexBatchForTest(bg, 2)
				reports[i].Reindexed += rep.Reindexed
				reports[i].Current += rep.Current
				if err != nil || done {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := reports[0].Reindexed + reports[1].Reindexed; got != n || reports[0].Current+reports[1].Current != 0 {
		t.Errorf("the nodes re-indexed %+v and %+v, want %d in all, each once", reports[0], reports[1], n)
	}
	for _, node := range nodes {
		for id, email := range stored {
			page, err := node.svc.ListUsers(bg, actor, core.UserQuery{SdkAppID: app.SdkAppID, Email: norm.NFC.String(email), Limit: 10})
			if err != nil || len(page.Users) != 1 || page.Users[0].ID != id {
				t.Errorf("lookup of %s by its NFC form: %v, %v", id, page, err)
			}
		}
		if rep, err := node.svc.MigrateEmailIndex(bg); err != nil || !rep.AlreadyDone {
			t.Errorf("MigrateEmailIndex after both finished = %+v, %v; want already done", rep, err)
		}
	}
}
