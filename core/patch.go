package core

import (
	"slices"
	"time"

	"usercenter"
)

// UserPatch lists the fields to set on a user; nil fields stay as they
// are, and a pointer to "" clears a text field. In ThirdParty a nil value
// removes the link to that provider.
type UserPatch struct {
	OriginID    *string
	ExternalID  *string // "" removes it
	FullName    *string
	Status      *usercenter.UserStatus
	Nickname    *string
	Avatar      *string
	Phone       *string
	Email       *string
	Address     *string
	City        *string
	Province    *string
	Nationality *string
	Lang        *string
	Timezone    *string
	Sex         *string
	Signature   *string
	Remark      *string
	LogonMode   *usercenter.LogonMode
	ThirdParty  map[usercenter.Provider]*string

	// If, when set, makes the patch apply only to the version of the
	// user the caller read; see Precondition.
	If *Precondition
}

// Precondition makes a write apply only to a user that has not changed
// since the caller read it (SCIM's If-Match). A user's version is its
// UpdatedAt, which every write changes. The check runs in the write's
// transaction, so no write slips in between.
type Precondition struct {
	// UpdatedAt lists the versions the caller accepts; the write applies
	// if the user's is one of them. Empty matches none.
	UpdatedAt []time.Time
}

// ErrStale is a write's answer when its Precondition fails.
var ErrStale = &usercenter.Error{Code: usercenter.EStale, Resource: usercenter.ResourceUser, Message: "the user has changed since the version given was read"}

// check fails with ErrStale unless u is at one of the versions c accepts.
// A nil Precondition accepts any.
func (c *Precondition) check(u *usercenter.User) error {
	if c == nil || slices.ContainsFunc(c.UpdatedAt, u.UpdatedAt.Equal) {
		return nil
	}
	return ErrStale
}

// apply sets the patch on u, normalising phone and email for the app, and
// returns the names of the fields whose value changed.
func (p *UserPatch) apply(u *usercenter.User, app *usercenter.App) ([]usercenter.Field, error) {
	var changed []usercenter.Field
	setText := func(name usercenter.Field, dst *string, v *string) {
		if v != nil && *dst != *v {
			*dst = *v
			changed = append(changed, name)
		}
	}
	if p.OriginID != nil {
		if *p.OriginID == "" {
			return nil, usercenter.Invalid(usercenter.FieldOriginID, "must not be empty")
		}
		if err := usercenter.CheckOriginID(usercenter.FieldOriginID, *p.OriginID); err != nil {
			return nil, err
		}
		setText(usercenter.FieldOriginID, &u.OriginID, p.OriginID)
	}
	if p.ExternalID != nil {
		if err := usercenter.CheckExternalID(usercenter.FieldExternalID, *p.ExternalID); err != nil {
			return nil, err
		}
		setText(usercenter.FieldExternalID, &u.ExternalID, p.ExternalID)
	}
	if p.Status != nil {
		if *p.Status != usercenter.UserActive && *p.Status != usercenter.UserDisabled {
			return nil, usercenter.Invalid(usercenter.FieldStatus, "must be 0 (disabled) or 1 (normal)")
		}
		if u.Status != *p.Status {
			u.Status = *p.Status
			changed = append(changed, usercenter.FieldStatus)
		}
	}
	if p.Phone != nil {
		phone, err := usercenter.NormalizePhone(usercenter.FieldPhone, *p.Phone, app.PhoneRegion)
		if err != nil {
			return nil, err
		}
		setText(usercenter.FieldPhone, &u.Phone, &phone)
	}
	if p.Email != nil {
		email, err := usercenter.NormalizeEmail(usercenter.FieldEmail, *p.Email)
		if err != nil {
			return nil, err
		}
		setText(usercenter.FieldEmail, &u.Email, &email)
	}
	setText(usercenter.FieldNickname, &u.Nickname, p.Nickname)
	setText(usercenter.FieldFullName, &u.FullName, p.FullName)
	setText(usercenter.FieldAvatar, &u.Avatar, p.Avatar)
	setText(usercenter.FieldAddress, &u.Address, p.Address)
	setText(usercenter.FieldCity, &u.City, p.City)
	setText(usercenter.FieldProvince, &u.Province, p.Province)
	setText(usercenter.FieldNationality, &u.Nationality, p.Nationality)
	setText(usercenter.FieldLang, &u.Lang, p.Lang)
	setText(usercenter.FieldTimezone, &u.Timezone, p.Timezone)
	setText(usercenter.FieldSex, &u.Sex, p.Sex)
	setText(usercenter.FieldSignature, &u.Signature, p.Signature)
	setText(usercenter.FieldRemark, &u.Remark, p.Remark)
	if p.LogonMode != nil && u.LogonMode != *p.LogonMode {
		u.LogonMode = *p.LogonMode
		changed = append(changed, usercenter.FieldLogonMode)
	}
	for prov, id := range p.ThirdParty {
		if !prov.Known() {
			return nil, usercenter.Invalid(usercenter.FieldThirdParty, "names an unknown third-party provider %q; known: %s", usercenter.ClipName(string(prov), 32), knownProviders)
		}
		cur, linked := u.ThirdParty[prov]
		switch {
		case id == nil || *id == "":
			if linked {
				delete(u.ThirdParty, prov)
				changed = append(changed, usercenter.ThirdPartyField(prov))
			}
		case !linked || cur != *id:
			if u.ThirdParty == nil {
				u.ThirdParty = map[usercenter.Provider]string{}
			}
			u.ThirdParty[prov] = *id
			changed = append(changed, usercenter.ThirdPartyField(prov))
		}
	}
	for _, f := range changed {
		if err := u.Profile.ValidateField(f); err != nil {
			return nil, err
		}
	}
	return changed, nil
}
