package core

import "usercenter"

// RecordForTest is what the service stores for u: personal data sealed,
// blind indexes computed. Tests use it to write many users in one
// transaction.
func (s *Service) RecordForTest(u *usercenter.User) *UserRecord { return s.pii.seal(u)[0] }

// RotateBatch is the size of one Reseal transaction.
const RotateBatch = rotateBatch
