package bench

import (
	"errors"

	"github.com/segmentio/ksuid"

	"usercenter"
)

// seededUsers holds the UserId of every seeded user, so that reads draw
// from the whole table, in 20 bytes a user: the UserId as the KSUID's
// binary form, which its 27 base-62 characters only spell out. As a Go
// string with its index beside it a user took about 56 bytes (560 MB of
// the load generator's memory for 10 million users); this way it takes
// 20 (200 MB).
//
// While seeding, slot i is user i's, written by whichever worker created
// it (workers write disjoint slots); a slot left all zeros (the nil KSUID,
// which no server makes) is a user whose seeding failed. keepSeeded then
// drops those, and only then does a user's slot differ from its seeding
// index, which idxs records.
type seededUsers struct {
	ids  []byte
	idxs []int32 // seeding index of each slot; nil while slot i is user i
}

const idSize = len(ksuid.Nil)

var errNotKSUID = errors.New("bad answer: a userId that is not a KSUID")

func newSeededUsers(n int) *seededUsers {
	return &seededUsers{ids: make([]byte, n*idSize)}
}

// Len is how many users there are to pick from.
func (s *seededUsers) Len() int { return len(s.ids) / idSize }

// set records id, in its base-62 form, as user i's.
func (s *seededUsers) set(i int, id []byte) error {
	// ksuid.Parse lets characters outside base 62 through.
	if !usercenter.ValidUserID(string(id)) {
		return errNotKSUID
	}
	k, err := ksuid.Parse(string(id))
	if err != nil || k.IsNil() {
		return errNotKSUID
	}
	copy(s.ids[i*idSize:], k[:])
	return nil
}

// drop forgets user i, whose seeding failed after its UserId was set.
func (s *seededUsers) drop(i int) {
	clear(s.ids[i*idSize : (i+1)*idSize])
}

func (s *seededUsers) has(k int) bool {
	return ksuid.KSUID(s.ids[k*idSize:(k+1)*idSize]) != ksuid.Nil
}

// at returns the user in slot k.
func (s *seededUsers) at(k int) sampleUser {
	idx := k
	if s.idxs != nil {
		idx = int(s.idxs[k])
	}
	return sampleUser{id: ksuid.KSUID(s.ids[k*idSize : (k+1)*idSize]).String(), idx: idx}
}

// keepSeeded drops the users whose seeding failed, keeping the others in
// order; with none failed it changes nothing and costs nothing more.
func (s *seededUsers) keepSeeded() {
	n := s.Len()
	kept := 0
	for k := range n {
		if s.has(k) {
			kept++
		}
	}
	if kept == n {
		return
	}
	idxs := make([]int32, 0, kept)
	out := 0
	for k := range n {
		if !s.has(k) {
			continue
		}
		copy(s.ids[out*idSize:], s.ids[k*idSize:(k+1)*idSize])
		idxs = append(idxs, int32(k))
		out++
	}
	s.ids = s.ids[: kept*idSize : kept*idSize]
	s.idxs = idxs
}

// seededOf holds the given users, in order, whatever their indexes.
func seededOf(users ...sampleUser) (*seededUsers, error) {
	s := newSeededUsers(len(users))
	s.idxs = make([]int32, len(users))
	for k, u := range users {
		if err := s.set(k, []byte(u.id)); err != nil {
			return nil, err
		}
		s.idxs[k] = int32(u.idx)
	}
	return s, nil
}
