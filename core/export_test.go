package core

import (
	"context"

	"usercenter"
)

// RecordForTest is what the service stores for u: personal data sealed,
// blind indexes computed. Tests use it to write many users in one
// transaction.
func (s *Service) RecordForTest(u *usercenter.User) *UserRecord { return s.pii.seal(u)[0] }

// RotateBatch is the size of one Reseal transaction.
const RotateBatch = rotateBatch

// MetaEmailIndexVersion names the meta row that says the email indexes
// follow the current rules.
const MetaEmailIndexVersion = metaEmailIndexVersion

// SealForTest is a personal-data value of a user as the service seals it.
func (s *Service) SealForTest(userID string, f usercenter.PIIField, v string) []byte {
	return s.pii.sealValue(userID, f, v)
}

// RawIndexForTest is the blind index of v exactly as given, as the first
// email rules computed it over the stored value.
func (s *Service) RawIndexForTest(sdkAppID uint64, f usercenter.PIIField, v string) []byte {
	return s.pii.blindIndex(sdkAppID, f, v)
}

// MigrateEmailIndexBatchForTest runs one batch of MigrateEmailIndex.
func (s *Service) MigrateEmailIndexBatchForTest(ctx context.Context, limit int) (bool, EmailIndexReport, error) {
	var rep EmailIndexReport
	done, err := s.migrateEmailIndexBatch(ctx, limit, &rep)
	return done, rep, err
}

// RaceDetector reports whether the tests run under the race detector.
const RaceDetector = raceDetector
