package scim

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
)

// The schemas of a User resource.
const (
	schemaUser      = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaExtension = "urn:usercenter:params:scim:schemas:extension:2.0:User"
	schemaList      = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
)

// extensionAttr is the full name of an attribute of the usercenter
// extension schema, as error messages name it.
func extensionAttr(name string) string { return schemaExtension + ":" + name }

// userResource is a User as this API shows it. Personal data (emails,
// phoneNumbers, addresses) is there only for a token with pii.read, in
// plain: SCIM has no masked form, and a masked value a provider PUT back
// would overwrite the real one.
type userResource struct {
	Schemas           []string         `json:"schemas"`
	ID                string           `json:"id"`
	ExternalID        string           `json:"externalId,omitempty"`
	UserName          string           `json:"userName"`
	Name              *name            `json:"name,omitempty"`
	DisplayName       string           `json:"displayName,omitempty"`
	NickName          string           `json:"nickName,omitempty"`
	Active            bool             `json:"active"`
	PreferredLanguage string           `json:"preferredLanguage,omitempty"`
	Locale            string           `json:"locale,omitempty"`
	Timezone          string           `json:"timezone,omitempty"`
	Photos            []multiValue     `json:"photos,omitempty"`
	Emails            []multiValue     `json:"emails,omitempty"`
	PhoneNumbers      []multiValue     `json:"phoneNumbers,omitempty"`
	Addresses         []address        `json:"addresses,omitempty"`
	Extension         *extensionObject `json:"urn:usercenter:params:scim:schemas:extension:2.0:User,omitempty"`
	Meta              meta             `json:"meta"`
}

// name is the complex name attribute, of which usercenter keeps the
// formatted whole.
type name struct {
	Formatted string `json:"formatted"`
}

// multiValue is one value of a multi-valued attribute.
type multiValue struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

type address struct {
	Formatted string `json:"formatted"`
	Type      string `json:"type,omitempty"`
	Primary   bool   `json:"primary,omitempty"`
}

// extensionObject holds the profile fields the core User schema lacks.
type extensionObject struct {
	City          string            `json:"city,omitempty"`
	Province      string            `json:"province,omitempty"`
	Nationality   string            `json:"nationality,omitempty"`
	Sex           string            `json:"sex,omitempty"`
	Signature     string            `json:"signature,omitempty"`
	Remark        string            `json:"remark,omitempty"`
	LogonMode     int               `json:"logonMode,omitempty"`
	ThirdPartyIDs map[string]string `json:"thirdPartyIds,omitempty"`
}

type meta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Location     string `json:"location"`
	Version      string `json:"version"`
}

// version is a user's weak ETag: it changes whenever the user does, since
// every change sets UpdatedAt.
func version(u *usercenter.User) string {
	return `W/"` + strconv.FormatInt(u.UpdatedAt.UnixNano(), 36) + `"`
}

// parseVersion reads a version as version writes it, W/ or not (RFC
// 7644 §3.14 compares them weakly).
func parseVersion(tag string) (time.Time, bool) {
	tag = strings.TrimPrefix(tag, "W/")
	if len(tag) < 3 || len(tag) > 20 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(tag[1:len(tag)-1], 36, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// toResource renders a user as core returned it. withPII says whether
// Phone, Email and Address were revealed, and may be shown.
func toResource(u *usercenter.User, base string, withPII bool) *userResource {
	res := &userResource{
		Schemas:           []string{schemaUser},
		ID:                u.ID,
		ExternalID:        u.ExternalID,
		UserName:          u.OriginID,
		DisplayName:       u.Nickname,
		NickName:          u.Nickname,
		Active:            u.Status == usercenter.UserActive,
		PreferredLanguage: u.Lang,
		Locale:            u.Lang,
		Timezone:          u.Timezone,
		Meta: meta{
			ResourceType: "User",
			Created:      u.CreatedAt.UTC().Format(time.RFC3339Nano),
			LastModified: u.UpdatedAt.UTC().Format(time.RFC3339Nano),
			Location:     base + "Users/" + u.ID,
			Version:      version(u),
		},
	}
	if u.FullName != "" {
		res.Name = &name{Formatted: u.FullName}
	}
	if u.Avatar != "" {
		res.Photos = []multiValue{{Value: u.Avatar, Type: "photo", Primary: true}}
	}
	if withPII {
		if u.Email != "" {
			res.Emails = []multiValue{{Value: u.Email, Primary: true}}
		}
		if u.Phone != "" {
			res.PhoneNumbers = []multiValue{{Value: u.Phone, Primary: true}}
		}
		if u.Address != "" {
			res.Addresses = []address{{Formatted: u.Address, Primary: true}}
		}
	}
	ext := extensionObject{City: u.City, Province: u.Province, Nationality: u.Nationality, Sex: u.Sex,
		Signature: u.Signature, Remark: u.Remark, LogonMode: int(u.LogonMode)}
	if len(u.ThirdParty) > 0 {
		ext.ThirdPartyIDs = make(map[string]string, len(u.ThirdParty))
		for p, id := range u.ThirdParty {
			ext.ThirdPartyIDs[string(p)] = id
		}
	}
	if ext.City+ext.Province+ext.Nationality+ext.Sex+ext.Signature+ext.Remark != "" || ext.LogonMode != 0 || ext.ThirdPartyIDs != nil {
		res.Extension = &ext
		res.Schemas = append(res.Schemas, schemaExtension)
	}
	return res
}

// userInput is a User as a provider sends it in a POST or PUT.
// encoding/json matches attribute names case-insensitively, as RFC 7643
// wants. Attributes usercenter does not keep (title, userType, the parts
// of name but formatted, …) are ignored; docs/scim.md lists what is kept.
type userInput struct {
	Schemas           []string          `json:"schemas"`
	ID                *string           `json:"id"`
	ExternalID        *string           `json:"externalId"`
	UserName          *string           `json:"userName"`
	Name              *nameInput        `json:"name"`
	DisplayName       *string           `json:"displayName"`
	NickName          *string           `json:"nickName"`
	Active            *flexBool         `json:"active"`
	PreferredLanguage *string           `json:"preferredLanguage"`
	Locale            *string           `json:"locale"`
	Timezone          *string           `json:"timezone"`
	Photos            []multiValueInput `json:"photos"`
	Emails            []multiValueInput `json:"emails"`
	PhoneNumbers      []multiValueInput `json:"phoneNumbers"`
	Addresses         []addressInput    `json:"addresses"`
	Extension         *extensionInput   `json:"urn:usercenter:params:scim:schemas:extension:2.0:User"`
}

type nameInput struct {
	Formatted *string `json:"formatted"`
}

type multiValueInput struct {
	Value   string    `json:"value"`
	Type    string    `json:"type"`
	Primary *flexBool `json:"primary"`
}

type addressInput struct {
	Formatted string    `json:"formatted"`
	Type      string    `json:"type"`
	Primary   *flexBool `json:"primary"`
}

type extensionInput struct {
	City          *string            `json:"city"`
	Province      *string            `json:"province"`
	Nationality   *string            `json:"nationality"`
	Sex           *string            `json:"sex"`
	Signature     *string            `json:"signature"`
	Remark        *string            `json:"remark"`
	LogonMode     *int               `json:"logonMode"`
	ThirdPartyIDs map[string]*string `json:"thirdPartyIds"`
}

// flexBool is a boolean as providers send it: true or false, or, as
// Microsoft Entra ID does, the strings "True" and "False".
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	var s string
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
	} else {
		s = string(data)
	}
	switch strings.ToLower(s) {
	case "true":
		*b = true
	case "false":
		*b = false
	default:
		return errNotBool
	}
	return nil
}

var errNotBool = badRequest(typeInvalidValue, "a boolean attribute must be true or false")

// patch turns a User a provider sent into the use cases' patch. Only one
// value of emails, phoneNumbers, addresses and photos is kept: with more,
// the one marked primary.
func (in *userInput) patch() (core.UserPatch, error) {
	if in.UserName == nil || *in.UserName == "" {
		return core.UserPatch{}, badRequest(typeInvalidValue, "userName is required")
	}
	p := core.UserPatch{OriginID: in.UserName, ExternalID: in.ExternalID}
	if in.Name != nil {
		p.FullName = in.Name.Formatted
	}
	switch {
	case in.DisplayName != nil:
		p.Nickname = in.DisplayName
	case in.NickName != nil:
		p.Nickname = in.NickName
	}
	if in.Active != nil {
		st := usercenter.UserDisabled
		if *in.Active {
			st = usercenter.UserActive
		}
		p.Status = &st
	}
	switch {
	case in.PreferredLanguage != nil:
		p.Lang = in.PreferredLanguage
	case in.Locale != nil:
		p.Lang = in.Locale
	}
	p.Timezone = in.Timezone
	var err error
	if p.Avatar, err = oneValue("photos", in.Photos); err != nil {
		return p, err
	}
	if p.Email, err = oneValue("emails", in.Emails); err != nil {
		return p, err
	}
	if p.Phone, err = oneValue("phoneNumbers", in.PhoneNumbers); err != nil {
		return p, err
	}
	addrs := make([]multiValueInput, len(in.Addresses))
	for i, a := range in.Addresses {
		addrs[i] = multiValueInput{Value: a.Formatted, Type: a.Type, Primary: a.Primary}
	}
	if p.Address, err = oneValue("addresses", addrs); err != nil {
		return p, err
	}
	if x := in.Extension; x != nil {
		p.City, p.Province, p.Nationality, p.Sex, p.Signature, p.Remark = x.City, x.Province, x.Nationality, x.Sex, x.Signature, x.Remark
		if x.LogonMode != nil {
			m := usercenter.LogonMode(*x.LogonMode)
			p.LogonMode = &m
		}
		if len(x.ThirdPartyIDs) > 0 {
			p.ThirdParty = make(map[usercenter.Provider]*string, len(x.ThirdPartyIDs))
			for prov, id := range x.ThirdPartyIDs {
				p.ThirdParty[usercenter.Provider(prov)] = id
			}
		}
	}
	return p, nil
}

// replacement turns a User a provider PUTs into the patch that makes the
// user cur that resource (RFC 7644 §3.5.1): what the resource leaves out
// is cleared, but for what it cannot mean to clear. active and the
// extension's logonMode keep their value, since they have no empty one;
// and without pii.read the personal attributes keep theirs, since the
// provider never saw them: a PUT of what it read back must change
// nothing. With pii.read, a PUT without emails clears the email.
func (in *userInput) replacement(cur *usercenter.User, withPII bool) (core.UserPatch, error) {
	if in.ID != nil && *in.ID != cur.ID {
		return core.UserPatch{}, badRequest(typeMutability, "id cannot be changed: the body's id must be the URL's")
	}
	p, err := in.patch()
	if err != nil {
		return p, err
	}
	clear := func(dst **string) {
		if *dst == nil {
			*dst = new(string)
		}
	}
	for _, dst := range []**string{&p.ExternalID, &p.FullName, &p.Nickname, &p.Lang, &p.Timezone, &p.Avatar,
		&p.City, &p.Province, &p.Nationality, &p.Sex, &p.Signature, &p.Remark} {
		clear(dst)
	}
	if withPII {
		clear(&p.Email)
		clear(&p.Phone)
		clear(&p.Address)
	}
	for prov := range cur.ThirdParty {
		if _, kept := p.ThirdParty[prov]; !kept {
			if p.ThirdParty == nil {
				p.ThirdParty = map[usercenter.Provider]*string{}
			}
			p.ThirdParty[prov] = nil
		}
	}
	return p, nil
}

// oneValue picks the one value usercenter keeps of a multi-valued
// attribute: the only one, or the one marked primary.
func oneValue(attr string, values []multiValueInput) (*string, error) {
	switch len(values) {
	case 0:
		return nil, nil
	case 1:
		return &values[0].Value, nil
	}
	var primary *string
	for i := range values {
		if values[i].Primary != nil && bool(*values[i].Primary) {
			if primary != nil {
				return nil, badRequest(typeInvalidValue, "%s has more than one primary value", attr)
			}
			primary = &values[i].Value
		}
	}
	if primary == nil {
		return nil, badRequest(typeInvalidValue, "%s: usercenter keeps one value; mark the one to keep primary", attr)
	}
	return primary, nil
}
