package scim

import (
	"net/http"

	"usercenter"
)

// The discovery endpoints (RFC 7644 §4) describe what this server does,
// truthfully: what is not implemented yet says "supported": false.

const (
	schemaServiceProviderConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	schemaResourceType          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSchema                = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

type supported struct {
	Supported bool `json:"supported"`
}

type serviceProviderConfig struct {
	Schemas               []string     `json:"schemas"`
	Patch                 supported    `json:"patch"`
	Bulk                  bulkConfig   `json:"bulk"`
	Filter                filterConfig `json:"filter"`
	ChangePassword        supported    `json:"changePassword"`
	Sort                  supported    `json:"sort"`
	ETag                  supported    `json:"etag"`
	AuthenticationSchemes []authScheme `json:"authenticationSchemes"`
	Meta                  resourceMeta `json:"meta"`
}

type bulkConfig struct {
	Supported      bool `json:"supported"`
	MaxOperations  int  `json:"maxOperations"`
	MaxPayloadSize int  `json:"maxPayloadSize"`
}

type filterConfig struct {
	Supported  bool `json:"supported"`
	MaxResults int  `json:"maxResults"`
}

type authScheme struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Primary     bool   `json:"primary"`
}

type resourceMeta struct {
	ResourceType string `json:"resourceType"`
	Location     string `json:"location"`
}

// serviceProviderConfig answers GET /ServiceProviderConfig.
func (a *api) serviceProviderConfig(w http.ResponseWriter, r *http.Request, c *call) {
	if c.id != "" {
		fail(w, r, &scimError{Status: http.StatusNotFound, Detail: "no such endpoint; see docs/scim.md"})
		return
	}
	writeJSON(w, r, http.StatusOK, serviceProviderConfig{
		Schemas:        []string{schemaServiceProviderConfig},
		Patch:          supported{Supported: true},
		ETag:           supported{Supported: true},
		Bulk:           bulkConfig{},
		Filter:         filterConfig{Supported: true, MaxResults: maxCount},
		ChangePassword: supported{},
		AuthenticationSchemes: []authScheme{{
			Type: "oauthbearertoken", Name: "OAuth Bearer Token", Primary: true,
			Description: "A SCIM token of the app (usercenter scim token create), sent as Authorization: Bearer <token>.",
		}},
		Meta: resourceMeta{ResourceType: "ServiceProviderConfig", Location: c.base + "ServiceProviderConfig"},
	})
}

type resourceType struct {
	Schemas          []string       `json:"schemas"`
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	Endpoint         string         `json:"endpoint"`
	Description      string         `json:"description"`
	Schema           string         `json:"schema"`
	SchemaExtensions []extensionRef `json:"schemaExtensions"`
	Meta             resourceMeta   `json:"meta"`
}

type extensionRef struct {
	Schema   string `json:"schema"`
	Required bool   `json:"required"`
}

func userResourceType(base string) resourceType {
	return resourceType{
		Schemas: []string{schemaResourceType}, ID: "User", Name: "User", Endpoint: "/Users",
		Description: "A user of the app", Schema: schemaUser,
		SchemaExtensions: []extensionRef{{Schema: schemaExtension, Required: false}},
		Meta:             resourceMeta{ResourceType: "ResourceType", Location: base + "ResourceTypes/User"},
	}
}

// discoveryList is a ListResponse of discovery resources.
type discoveryList struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []any    `json:"Resources"`
}

func listOf(items ...any) discoveryList {
	return discoveryList{Schemas: []string{schemaList}, TotalResults: len(items), StartIndex: 1, ItemsPerPage: len(items), Resources: items}
}

// resourceTypes answers GET /ResourceTypes and /ResourceTypes/User.
func (a *api) resourceTypes(w http.ResponseWriter, r *http.Request, c *call) {
	switch c.id {
	case "":
		writeJSON(w, r, http.StatusOK, listOf(userResourceType(c.base)))
	case "User":
		writeJSON(w, r, http.StatusOK, userResourceType(c.base))
	default:
		fail(w, r, &scimError{Status: http.StatusNotFound, Detail: "the only resource type is User"})
	}
}

// schemas answers GET /Schemas and /Schemas/{urn}.
func (a *api) schemas(w http.ResponseWriter, r *http.Request, c *call) {
	user, ext := userSchema(c.base), extensionSchema(c.base)
	switch c.id {
	case "":
		writeJSON(w, r, http.StatusOK, listOf(user, ext))
	case schemaUser:
		writeJSON(w, r, http.StatusOK, user)
	case schemaExtension:
		writeJSON(w, r, http.StatusOK, ext)
	default:
		fail(w, r, &scimError{Status: http.StatusNotFound, Detail: "the schemas are " + schemaUser + " and " + schemaExtension})
	}
}

type schema struct {
	Schemas     []string     `json:"schemas"`
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Attributes  []attribute  `json:"attributes"`
	Meta        resourceMeta `json:"meta"`
}

// attribute is an attribute definition (RFC 7643 §7).
type attribute struct {
	Name          string      `json:"name"`
	Type          string      `json:"type"`
	MultiValued   bool        `json:"multiValued"`
	Description   string      `json:"description"`
	Required      bool        `json:"required"`
	CaseExact     bool        `json:"caseExact"`
	Mutability    string      `json:"mutability"`
	Returned      string      `json:"returned"`
	Uniqueness    string      `json:"uniqueness"`
	SubAttributes []attribute `json:"subAttributes,omitempty"`
}

func text(name, desc string) attribute {
	return attribute{Name: name, Type: "string", Description: desc, Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
}

// multi is a multi-valued complex attribute of which usercenter keeps one
// value, under valueName.
func multi(name, valueName, desc string) attribute {
	a := attribute{Name: name, Type: "complex", MultiValued: true, Description: desc, Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
	a.SubAttributes = []attribute{
		text(valueName, "The value."),
		text("type", "Accepted, not kept."),
		{Name: "primary", Type: "boolean", Description: "With several values, marks the one kept.", Mutability: "readWrite", Returned: "default", Uniqueness: "none"},
	}
	return a
}

const piiNote = " Personal data: encrypted at rest, returned only to a token with pii.read, each read audited."

func userSchema(base string) schema {
	userName := text("userName", "The user's ID in the app's own system (usercenter's OriginId): unique per app, case-exact.")
	userName.Required, userName.CaseExact, userName.Uniqueness = true, true, "server"
	externalID := text("externalId", "The user's ID in the provisioning identity provider, kept as sent: unique per app, case-exact.")
	externalID.CaseExact, externalID.Uniqueness = true, "server"
	return schema{
		Schemas: []string{schemaSchema}, ID: schemaUser, Name: "User", Description: "A user of the app",
		Attributes: []attribute{
			userName,
			externalID,
			{Name: "name", Type: "complex", Description: "The user's name; usercenter keeps formatted, the whole name for display.", Mutability: "readWrite", Returned: "default", Uniqueness: "none",
				SubAttributes: []attribute{text("formatted", "The whole name, formatted for display.")}},
			text("displayName", "The nickname; nickName is the same value."),
			text("nickName", "The nickname; displayName is the same value."),
			{Name: "active", Type: "boolean", Description: "Whether the user is active (usercenter's status).", Mutability: "readWrite", Returned: "default", Uniqueness: "none"},
			text("preferredLanguage", "The language; locale is the same value."),
			text("locale", "The language; preferredLanguage is the same value."),
			text("timezone", "An IANA time zone, such as Asia/Shanghai."),
			multi("emails", "value", "One email is kept."+piiNote),
			multi("phoneNumbers", "value", "One phone number is kept, in E.164."+piiNote),
			multi("addresses", "formatted", "One address is kept, as formatted."+piiNote),
			multi("photos", "value", "One photo URL is kept: the avatar."),
		},
		Meta: resourceMeta{ResourceType: "Schema", Location: base + "Schemas/" + schemaUser},
	}
}

func extensionSchema(base string) schema {
	ids := attribute{Name: "thirdPartyIds", Type: "complex", Description: "The user's IDs at third-party providers; each is unique per app.", Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
	for _, p := range usercenter.Providers {
		ids.SubAttributes = append(ids.SubAttributes, text(string(p), "The user's ID at "+string(p)+"."))
	}
	logonMode := attribute{Name: "logonMode", Type: "integer", Description: "How the user logs in, as usercenter numbers it.", Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
	return schema{
		Schemas: []string{schemaSchema}, ID: schemaExtension, Name: "usercenter User",
		Description: "The profile fields of a usercenter user that the core User schema lacks",
		Attributes: []attribute{
			text("city", "The city."), text("province", "The province."), text("nationality", "The nationality."),
			text("sex", "The sex."), text("signature", "The signature."), text("remark", "A remark."),
			logonMode, ids,
		},
		Meta: resourceMeta{ResourceType: "Schema", Location: base + "Schemas/" + schemaExtension},
	}
}
