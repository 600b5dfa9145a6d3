// Validates SCIM responses of usercenter against RFC 7643's schemas and
// RFC 7644's messages with SCIMMY's own classes (the `scimmy` package),
// which the server does not use: User resources, ListResponses, errors,
// ServiceProviderConfig, ResourceTypes and Schemas.
//
// Reads from stdin {"schemas": <the server's GET /Schemas answer>,
// "cases": [{"name", "kind", "body"}]} and writes to stdout one
// {"name", "ok", "error"} per case, in order. It judges nothing itself:
// the Go test (compat/scim_test.go) says which cases must pass and which
// must be rejected.
import SCIMMY from "scimmy";

const urnUser = "urn:ietf:params:scim:schemas:core:2.0:User";
const urnError = "urn:ietf:params:scim:api:messages:2.0:Error";
const urnList = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const urnExtension = "urn:usercenter:params:scim:schemas:extension:2.0:User";
// SCIMMY refuses a schema whose URN is outside urn:ietf:params:scim:schemas:,
// although RFC 7643 §10.2 keeps that namespace for registered schemas and
// a private extension must use its own. The extension is checked under
// this stand-in URN, its attributes unchanged.
const standIn = "urn:ietf:params:scim:schemas:extension:usercenter:2.0:User";

const input = JSON.parse(await new Promise((resolve, reject) => {
    let text = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => text += chunk);
    process.stdin.on("end", () => resolve(text));
    process.stdin.on("error", reject);
}));

// attribute builds a SCIMMY attribute from an RFC 7643 §7 attribute
// definition as the server's /Schemas describes it; SCIMMY's constructor
// checks the characteristics.
function attribute(def) {
    const config = {
        multiValued: def.multiValued, required: def.required, caseExact: def.caseExact,
        mutable: def.mutability === "readWrite" ? true : def.mutability === "readOnly" ? false : def.mutability,
        returned: def.returned === "default" ? true : def.returned === "never" ? false : def.returned,
        uniqueness: def.uniqueness === "none" ? false : def.uniqueness,
        description: def.description,
    };
    if (def.referenceTypes) config.referenceTypes = def.referenceTypes;
    if (def.canonicalValues) config.canonicalValues = def.canonicalValues;
    return new SCIMMY.Types.Attribute(def.type, def.name, config, (def.subAttributes ?? []).map(attribute));
}

// schemaOf finds one schema in the server's /Schemas ListResponse.
function schemaOf(id) {
    const s = (input.schemas?.Resources ?? []).find((r) => r.id === id);
    if (!s) throw new Error(`the server's /Schemas does not describe ${id}`);
    return s;
}

// RFC 9865 §4 adds "pagination" to ServiceProviderConfig; SCIMMY 1.3
// predates it, so it is declared here as the RFC defines it.
function serviceProviderConfigSchema() {
    const definition = SCIMMY.Schemas.ServiceProviderConfig.definition;
    if (!definition.attributes.some((a) => a.name === "pagination")) {
        const sub = (type, name, required = false) => new SCIMMY.Types.Attribute(type, name, {required, mutable: false});
        definition.extend([new SCIMMY.Types.Attribute("complex", "pagination", {mutable: false}, [
            sub("boolean", "cursor", true), sub("boolean", "index", true),
            new SCIMMY.Types.Attribute("string", "defaultPaginationMethod", {mutable: false, canonicalValues: ["cursor", "index"]}),
            sub("integer", "defaultPageSize"), sub("integer", "maxPageSize"), sub("integer", "cursorTimeout"),
        ])]);
    }
    return definition;
}

let userDefinition;
// userSchema is RFC 7643's User (SCIMMY's own definition), extended by the
// usercenter extension as /Schemas describes it.
function userSchema() {
    if (!userDefinition) {
        const ext = schemaOf(urnExtension);
        const extension = new SCIMMY.Types.SchemaDefinition(ext.name, standIn, ext.description, ext.attributes.map(attribute));
        userDefinition = SCIMMY.Schemas.User.definition.extend(extension, false);
    }
    return userDefinition;
}

// RFC 7643 §2.4: the sub-attributes any multi-valued attribute may have,
// which SCIMMY does not declare everywhere (ServiceProviderConfig's
// authenticationSchemes has "primary" in RFC 7643 §8.5's own example).
const defaultSubAttributes = new Set(["type", "primary", "display", "value", "$ref"]);

// lost lists the members of sent that SCIMMY's coerced value lacks or
// holds as another JSON type: SCIMMY drops an attribute the schema does
// not know, and casts a number sent as a string, silently; here either is
// an error. inList says sent is one value of a multi-valued attribute.
function lost(sent, coerced, path = "", inList = false) {
    const out = [];
    if (sent === null || typeof sent !== "object") return out;
    for (const [k, v] of Object.entries(sent)) {
        const p = path ? `${path}.${k}` : k;
        if (coerced === null || typeof coerced !== "object" || !(k in coerced)) {
            if (!(inList && defaultSubAttributes.has(k))) out.push(`${p} (not in the schema)`);
        } else if (typeof v !== typeof coerced[k]) {
            out.push(`${p} (a ${typeof v}, the schema says ${typeof coerced[k]})`);
        } else {
            out.push(...lost(v, coerced[k], p, Array.isArray(sent)));
        }
    }
    return out;
}

function coerceStrict(definition, body) {
    const coerced = definition.coerce(structuredClone(body), "out");
    const wrong = lost(body, JSON.parse(JSON.stringify(coerced)));
    if (wrong.length) throw new Error(`not as the schema says: ${wrong.join(", ")}`);
    return coerced;
}

function validateUser(body) {
    if (!Array.isArray(body.schemas) || !body.schemas.includes(urnUser))
        throw new Error(`schemas must name ${urnUser}`);
    // RFC 7643 §3: schemas names the schemas of the attributes present.
    // (A projection that leaves the extension's attributes out may still
    // name it, as usercenter's does.)
    const hasExt = Object.hasOwn(body, urnExtension);
    if (hasExt && !body.schemas.includes(urnExtension))
        throw new Error("the extension's attributes are there but schemas does not name it");
    const renamed = structuredClone(body);
    renamed.schemas = renamed.schemas.map((s) => s === urnExtension ? standIn : s);
    if (hasExt) {
        renamed[standIn] = renamed[urnExtension];
        delete renamed[urnExtension];
    }
    coerceStrict(userSchema(), renamed);
}

// validateList checks a ListResponse with SCIMMY's message class, which
// wants its numbers as integers, then each resource.
function validateList(body, each) {
    if (!Array.isArray(body.schemas) || body.schemas.length !== 1 || body.schemas[0] !== urnList)
        throw new Error(`schemas must be exactly [${urnList}]`);
    for (const k of ["totalResults", "startIndex", "itemsPerPage"]) {
        if (!Number.isInteger(body[k])) throw new Error(`${k} must be an integer`);
    }
    new SCIMMY.Messages.ListResponse(body);
    if (!Array.isArray(body.Resources)) throw new Error("Resources must be a list");
    if (body.itemsPerPage !== body.Resources.length) throw new Error("itemsPerPage must count the Resources returned");
    body.Resources.forEach((r, i) => {
        try {
            each(r);
        } catch (e) {
            throw new Error(`Resources[${i}]: ${e.message}`);
        }
    });
}

// validateError checks RFC 7644 §3.12: status as a string, and SCIMMY's
// table of which statuses and scimTypes go together.
function validateError(body) {
    if (!Array.isArray(body.schemas) || body.schemas.length !== 1 || body.schemas[0] !== urnError)
        throw new Error(`schemas must be exactly [${urnError}]`);
    if (typeof body.status !== "string") throw new Error("status must be a JSON string");
    const allowed = new Set(["schemas", "status", "scimType", "detail"]);
    const extra = Object.keys(body).filter((k) => !allowed.has(k));
    if (extra.length) throw new Error(`members not in the Error message: ${extra.join(", ")}`);
    // Without the schema in its argument, SCIMMY's constructor checks the
    // values instead of rethrowing them.
    const {schemas, ...rest} = body;
    new SCIMMY.Messages.ErrorResponse(rest);
}

function validateSchema(body) {
    if (!Array.isArray(body.schemas) || body.schemas[0] !== "urn:ietf:params:scim:schemas:core:2.0:Schema")
        throw new Error("schemas must name the Schema schema");
    const attributes = body.attributes.map(attribute);
    // The core User must agree with RFC 7643's on the type and plurality
    // of every attribute the server describes.
    if (body.id === urnUser) {
        for (const a of attributes) {
            const rfc = SCIMMY.Schemas.User.definition.attribute(a.name);
            if (rfc.type !== a.type || rfc.config.multiValued !== a.config.multiValued)
                throw new Error(`${a.name}: ${a.type}${a.config.multiValued ? "[]" : ""}, RFC 7643 says ${rfc.type}${rfc.config.multiValued ? "[]" : ""}`);
        }
    }
}

const validators = {
    User: validateUser,
    UserList: (b) => validateList(b, validateUser),
    Error: validateError,
    ServiceProviderConfig: (b) => coerceStrict(serviceProviderConfigSchema(), b),
    ResourceTypes: (b) => validateList(b, (r) => coerceStrict(SCIMMY.Schemas.ResourceType.definition, r)),
    Schemas: (b) => validateList(b, validateSchema),
};

const results = input.cases.map(({name, kind, body}) => {
    try {
        const v = validators[kind];
        if (!v) throw new Error(`unknown kind ${kind}`);
        v(body);
        return {name, ok: true};
    } catch (e) {
        return {name, ok: false, error: String(e.message ?? e)};
    }
});
process.stdout.write(JSON.stringify(results));
