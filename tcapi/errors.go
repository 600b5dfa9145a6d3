package tcapi

import (
	"fmt"

	"usercenter"
	"usercenter/core"
	"usercenter/tcsig"
)

// apiError is an error as the API reports it: a Tencent Cloud error code
// and a message in the caller's language.
type apiError struct {
	Code    string
	Message string // English detail; "" means the code's standard message
	cause   error  // internal errors and unavailability with a cause only, for the log
}

// Error makes an apiError usable where an error is expected, as by
// httpio.ReadBody; the code is what it says.
func (e *apiError) Error() string { return e.Code }

// message pairs a code's standard English and Chinese messages.
type message struct{ en, zh string }

// messages holds every code this facade answers with. docs/lcic.md lists
// them for users; keep the two in step.
var messages = map[string]message{
	"AuthFailure.InvalidAuthorization": {"Authorization in the request header is invalid.", "请求头部的 Authorization 不符合腾讯云标准。"},
	"AuthFailure.SecretIdNotFound":     {"Key does not exist. Check if the key has been deleted or disabled in the console, and if not, check if the key is correctly entered. Note that whitespaces should not exist before or after the key.", "密钥不存在。请检查密钥是否已被删除或禁用，以及密钥是否正确填写，注意前后不得有空格。"},
	"AuthFailure.SignatureExpire":      {"Signature expired. Timestamp and server time cannot differ by more than five minutes. Please ensure your current local time matches the standard time.", "签名过期。Timestamp 和服务器时间相差不得超过五分钟，请检查本地时间是否和标准时间同步。"},
	"AuthFailure.SignatureFailure":     {"Invalid signature. Signature calculation error. Please ensure you've followed the signature calculation process described in the Signature API documentation.", "签名错误。签名计算错误，请对照调用方式中的签名方法文档检查签名计算过程。"},
	"FailedOperation":                  {"Operation failed.", "操作失败。"},
	"FailedOperation.OriginIdExists":   {"The user origin ID already exists.", "源账号已存在。"},
	"FailedOperation.UserDisabled":     {"The user is disabled.", "用户已被禁用。"},
	"FailedOperation.AppDisabled":      {"The application is disabled.", "应用已被禁用。"},
	"InternalError":                    {"Internal error.", "内部错误。"},
	"InvalidAction":                    {"API does not exist.", "接口不存在。"},
	"InvalidParameter":                 {"Incorrect parameter (format, type, etc.).", "参数错误（包括参数格式、类型等错误）。"},
	"InvalidParameter.SdkAppId":        {"SdkAppId is incorrect.", "SdkAppId 不正确。"},
	"InvalidParameterValue":            {"Invalid parameter value.", "参数取值错误。"},
	"MissingParameter":                 {"A parameter is missing.", "缺少参数错误。"},
	"NoSuchVersion":                    {"The API version does not exist.", "接口版本不存在。"},
	"RequestLimitExceeded":             {"The number of requests exceeds the frequency limit.", "请求的次数超过了频率限制。"},
	"RequestSizeLimitExceeded":         {"The request size exceeds the upper limit.", "请求包超过限制大小。"},
	"ResourceNotFound.User":            {"The user does not exist.", "用户不存在。"},
	"ServiceUnavailable":               {"Service is unavailable now.", "当前服务暂时不可用。"},
	"UnauthorizedOperation":            {"Unauthorized operation.", "未授权操作。"},
	"UnknownParameter":                 {"Unknown parameter.", "未知参数错误。"},
	"UnsupportedProtocol":              {"HTTP(S) request protocol error; only GET and POST requests are supported.", "HTTP(S) 请求协议错误，只支持 GET 和 POST 请求。"},
}

// fields spells every domain field as LCIC's parameters do. Fields no
// LCIC action takes are spelled in the same style, for completeness: an
// answer names a field only through this table.
var fields = usercenter.Spelling{
	usercenter.FieldUserID: "UserId", usercenter.FieldSdkAppID: "SdkAppId", usercenter.FieldOriginID: "OriginId", usercenter.FieldExternalID: "ExternalId", usercenter.FieldFullName: "FullName",
	usercenter.FieldStatus: "Status", usercenter.FieldNickname: "Name", usercenter.FieldAvatar: "Avatar",
	usercenter.FieldPhone: "Phone", usercenter.FieldEmail: "Email", usercenter.FieldAddress: "Address",
	usercenter.FieldCity: "City", usercenter.FieldProvince: "Province", usercenter.FieldNationality: "Nationality",
	usercenter.FieldLang: "Lang", usercenter.FieldTimezone: "Timezone", usercenter.FieldSex: "Sex",
	usercenter.FieldSignature: "Signature", usercenter.FieldRemark: "Remark", usercenter.FieldLogonMode: "LogonMode",
	usercenter.FieldThirdParty: "ThirdPartyIds",
	usercenter.FieldAppName:    "AppName", usercenter.FieldAppStatus: "AppStatus", usercenter.FieldUserDomain: "UserDomain",
	usercenter.FieldRateLimit: "RateLimit", usercenter.FieldTokenTTL: "TokenTTL", usercenter.FieldPhoneRegion: "PhoneRegion",
	usercenter.FieldSuperAppSecretKey: "SuperAppSecretKey", usercenter.FieldSuperAppCipher: "SuperAppCipher",
	usercenter.FieldCodeTTL: "CodeTTL", usercenter.FieldKeyName: "KeyName", usercenter.FieldKeyApps: "KeyApps",
	usercenter.FieldPermissions: "Permissions", usercenter.FieldSecretID: "SecretId",
	usercenter.FieldUsers: "Users", usercenter.FieldPage: "Page", usercenter.FieldPageSize: "Limit",
	usercenter.FieldCursor: "Cursor", usercenter.FieldCreatedSince: "CreatedSince", usercenter.FieldCreatedUntil: "CreatedUntil",
	usercenter.FieldSince: "Since", usercenter.FieldUntil: "Until", usercenter.FieldProvider: "Provider",
	usercenter.FieldProviderUserID: "ProviderUserId", usercenter.FieldUsername: "Username", usercenter.FieldPassword: "Password",
	usercenter.FieldTimestamp: "Timestamp", usercenter.FieldCode: "Code", usercenter.FieldValueKind: "Type",
	usercenter.FieldToken: "Token", usercenter.FieldAuditAction: "Action", usercenter.FieldRole: "Role", usercenter.FieldReason: "Reason",
	usercenter.FieldWebhookID: "WebhookId", usercenter.FieldWebhookURL: "Url", usercenter.FieldWebhookEvents: "Events",
}

// describe is a domain error's message in LCIC's terms: an error about one
// user of a batch names it as its parameters do, Users.3.OriginId.
func describe(e *usercenter.Error) string {
	msg := e.Describe(fields)
	if i, ok := e.ItemIndex(); ok {
		users, _ := fields.Spell(usercenter.FieldUsers)
		msg = fmt.Sprintf("%s.%d.%s", users, i, msg)
	}
	return msg
}

// fromDomain maps a usercenter.Error to this facade's codes. It is the one
// place where domain errors meet Tencent Cloud codes.
func fromDomain(err error) *apiError {
	e := usercenter.ErrorOf(err)
	switch e.Code {
	case usercenter.EInvalid:
		return &apiError{Code: "InvalidParameterValue", Message: describe(e)}
	case usercenter.ENotFound:
		switch e.Resource {
		case usercenter.ResourceApp:
			return &apiError{Code: "InvalidParameter.SdkAppId"}
		case usercenter.ResourceKey:
			return &apiError{Code: "AuthFailure.SecretIdNotFound"}
		default:
			return &apiError{Code: "ResourceNotFound.User"}
		}
	case usercenter.EConflict:
		if e.Field == usercenter.FieldOriginID {
			return &apiError{Code: "FailedOperation.OriginIdExists"}
		}
		return &apiError{Code: "FailedOperation", Message: describe(e)}
	case usercenter.EUnauthenticated:
		if e.Field == usercenter.FieldTimestamp {
			return &apiError{Code: "AuthFailure.SignatureExpire", Message: e.Message}
		}
		if e == core.ErrSignatureReplayed {
			return &apiError{Code: "AuthFailure.SignatureFailure", Message: e.Message}
		}
		return &apiError{Code: "AuthFailure.SignatureFailure"}
	case usercenter.EForbidden:
		return &apiError{Code: "UnauthorizedOperation", Message: e.Message}
	case usercenter.ERateLimited:
		if e.Resource == usercenter.ResourceKey {
			return &apiError{Code: "RequestLimitExceeded", Message: e.Message}
		}
		return &apiError{Code: "RequestLimitExceeded"}
	case usercenter.EDisabled:
		if e.Resource == usercenter.ResourceApp {
			return &apiError{Code: "FailedOperation.AppDisabled"}
		}
		return &apiError{Code: "FailedOperation.UserDisabled"}
	case usercenter.EStale:
		return &apiError{Code: "FailedOperation", Message: e.Message}
	case usercenter.EUnavailable:
		ae := &apiError{Code: "ServiceUnavailable"}
		if e.Err != nil { // a cause worth logging; the whole error, so that obs tells it from a cancellation
			ae.cause = err
		}
		return ae
	}
	return &apiError{Code: "InternalError", cause: err}
}

// fromSignature maps a signature check failure.
func fromSignature(err error) *apiError {
	se, ok := err.(*tcsig.Error)
	if !ok {
		return &apiError{Code: "InternalError", cause: err}
	}
	switch se.Kind {
	case tcsig.MissingParameter:
		return &apiError{Code: "MissingParameter", Message: se.Msg}
	case tcsig.InvalidParameter:
		return &apiError{Code: "InvalidParameter", Message: se.Msg}
	case tcsig.SignatureExpire:
		return &apiError{Code: "AuthFailure.SignatureExpire"}
	case tcsig.SignatureFailure:
		return &apiError{Code: "AuthFailure.SignatureFailure"}
	}
	return &apiError{Code: "AuthFailure.InvalidAuthorization", Message: se.Msg}
}

// text is the message for lang: the English detail when there is one, or
// the code's standard message.
func (e *apiError) text(lang string) string {
	m := messages[e.Code]
	if lang == "zh-CN" {
		if e.Message != "" && m.zh != "" {
			return m.zh + " " + e.Message
		}
		return m.zh
	}
	if e.Message != "" {
		return e.Message
	}
	return m.en
}
