package console

import (
	"net/http"
	"strconv"

	"usercenter"
)

// fields spells every domain field as the console's forms label it, so
// that an error reads as a sentence about what the operator typed.
var fields = usercenter.Spelling{
	usercenter.FieldUserID: "UserId", usercenter.FieldSdkAppID: "SdkAppId", usercenter.FieldOriginID: "OriginId", usercenter.FieldExternalID: "ExternalId", usercenter.FieldFullName: "FullName",
	usercenter.FieldStatus: "Status", usercenter.FieldNickname: "Nickname", usercenter.FieldAvatar: "Avatar",
	usercenter.FieldPhone: "Phone", usercenter.FieldEmail: "Email", usercenter.FieldAddress: "Address",
	usercenter.FieldCity: "City", usercenter.FieldProvince: "Province", usercenter.FieldNationality: "Nationality",
	usercenter.FieldLang: "Language", usercenter.FieldTimezone: "Time zone", usercenter.FieldSex: "Sex",
	usercenter.FieldSignature: "Signature", usercenter.FieldRemark: "Remark", usercenter.FieldLogonMode: "Logon mode",
	usercenter.FieldThirdParty: "Third-party IDs",
	usercenter.FieldAppName:    "App name", usercenter.FieldAppStatus: "App status", usercenter.FieldUserDomain: "User domain",
	usercenter.FieldRateLimit: "Rate limit", usercenter.FieldTokenTTL: "Token lifetime", usercenter.FieldPhoneRegion: "Phone region",
	usercenter.FieldSuperAppSecretKey: "SuperApp secret", usercenter.FieldSuperAppCipher: "SuperApp cipher",
	usercenter.FieldCodeTTL: "Code lifetime", usercenter.FieldKeyName: "Key name", usercenter.FieldKeyApps: "Apps",
	usercenter.FieldPermissions: "Permissions", usercenter.FieldSecretID: "SecretId",
	usercenter.FieldUsers: "Users", usercenter.FieldPage: "Page", usercenter.FieldPageSize: "Page size",
	usercenter.FieldCursor: "Position", usercenter.FieldCreatedSince: "Created since", usercenter.FieldCreatedUntil: "Created until",
	usercenter.FieldSince: "Since", usercenter.FieldUntil: "Until", usercenter.FieldProvider: "Provider",
	usercenter.FieldProviderUserID: "Provider's user ID", usercenter.FieldUsername: "Username", usercenter.FieldPassword: "Password",
	usercenter.FieldTimestamp: "Timestamp", usercenter.FieldCode: "Code", usercenter.FieldValueKind: "Kind of value",
	usercenter.FieldToken: "Token", usercenter.FieldAuditAction: "Action", usercenter.FieldRole: "Role",
	usercenter.FieldReason: "Reason", usercenter.FieldWebhookID: "Webhook", usercenter.FieldWebhookURL: "Webhook URL",
	usercenter.FieldWebhookEvents: "Webhook events",
}

// fromDomain is the one table from domain errors to what the console
// answers: an HTTP status and a message safe to show. An internal error's
// message never says more than that something went wrong.
func fromDomain(err error) (int, string) {
	e := usercenter.ErrorOf(err)
	msg := e.Describe(fields)
	if i, ok := e.ItemIndex(); ok {
		msg = "Item " + strconv.Itoa(i+1) + ": " + msg
	}
	switch e.Code {
	case usercenter.EInvalid:
		return http.StatusBadRequest, msg
	case usercenter.ENotFound:
		return http.StatusNotFound, msg
	case usercenter.EForbidden:
		return http.StatusForbidden, msg
	case usercenter.EUnauthenticated:
		return http.StatusUnauthorized, msg
	case usercenter.ERateLimited:
		return http.StatusTooManyRequests, msg
	case usercenter.EDisabled:
		return http.StatusForbidden, msg
	case usercenter.EConflict, usercenter.EStale:
		return http.StatusConflict, msg
	case usercenter.EUnavailable:
		return http.StatusServiceUnavailable, msg
	}
	return http.StatusInternalServerError, "Something went wrong on the server; the error is in its log."
}
