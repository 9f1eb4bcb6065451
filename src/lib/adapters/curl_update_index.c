/*
 * curl_update_index.c - the strict parser of index.json, the index that
 * `pinset publish` writes beside its documents
 * (pinset_curl_update_index_parse, include/pinset/curl_update.h;
 * docs/update-protocol.md "Following the index").
 *
 * The index is not signed and is never trusted for security: it only says
 * which document to fetch and what its bytes hash to. It is still an input
 * from the network, so it is read strictly: a bounded size, exactly five
 * members of known types, and a document path that can only name a file
 * below the index's own directory once resolved against its URL (no
 * scheme, no authority, no absolute path, no "..", no query or fragment,
 * no percent-encoding). Part of libpinset-curl: libpinset's public API and
 * jansson, no src/lib internals.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include <pinset/curl_update.h>

#include "util/diag.h"
#include "util/hex.h"
#include "util/rfc3339.h"

static const char *const members[] = {"serial", "document", "sha256", "issued_at", "expires_at"};

static pinset_err refuse(pinset_diag *diag, const char *member, const char *why)
{
    pinset__diag_path(diag, member);
    return PINSET_DIAG(diag, PINSET_E_PARSE, "%s %s", member, why);
}

/* RFC 3986 §2.3 unreserved characters, and "/" between segments. */
static int path_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '/';
}

/*
 * A relative-path reference (RFC 3986 §4.2) that resolves below the index's
 * directory: the reasons a hostile index would use are named first.
 */
static pinset_err check_document(const char *p, size_t len, pinset_diag *diag)
{
    const char *colon = memchr(p, ':', len), *slash = memchr(p, '/', len);

    if (len == 0) {
        return refuse(diag, "document", "is empty");
    }
    if (len > PINSET_CURL_UPDATE_INDEX_PATH_MAX) {
        pinset__diag_path(diag, "document");
        return PINSET_DIAG(diag, PINSET_E_PARSE, "document is longer than %d octets",
                           PINSET_CURL_UPDATE_INDEX_PATH_MAX);
    }
    if (memchr(p, '\0', len) != NULL) {
        return refuse(diag, "document", "holds a NUL character");
    }
    if (p[0] == '/' || p[0] == '\\') {
        return refuse(diag, "document",
                      "is an absolute path (a path relative to the index is "
                      "expected)");
    }
    if (colon != NULL && (slash == NULL || colon < slash)) {
        return refuse(diag, "document", "has a scheme (a path relative to the index is expected)");
    }
    if (memchr(p, '?', len) != NULL) {
        return refuse(diag, "document", "has a query");
    }
    if (memchr(p, '#', len) != NULL) {
        return refuse(diag, "document", "has a fragment");
    }
    if (strstr(p, "..") != NULL) {
        return refuse(diag, "document", "contains \"..\"");
    }
    for (size_t i = 0; i < len; i++) {
        if (!path_char((unsigned char)p[i])) {
            pinset__diag_path(diag, "document");
            return PINSET_DIAG(diag, PINSET_E_PARSE,
                               "document has character 0x%02x at offset %zu (letters, digits, "
                               "\"-._~\" and \"/\" only)",
                               (unsigned int)(unsigned char)p[i], i);
        }
    }
    if (p[len - 1] == '/' || strstr(p, "//") != NULL || strcmp(p, ".") == 0 ||
        strncmp(p, "./", 2) == 0 || strstr(p, "/./") != NULL ||
        (len >= 2 && strcmp(p + len - 2, "/.") == 0)) {
        return refuse(diag, "document", "has an empty or \".\" segment");
    }
    return PINSET_OK;
}

static pinset_err get_time(int64_t *out, json_t *v, const char *member, pinset_diag *diag)
{
    if (!json_is_string(v)) {
        return refuse(diag, member, "is not a string");
    }
    if (pinset__time_parse(out, json_string_value(v), json_string_length(v), 0) != 0) {
        return refuse(diag, member, "is not an RFC 3339 time (2027-01-01T00:00:00Z)");
    }
    return PINSET_OK;
}

static pinset_err read_index(pinset_curl_update_index *out, json_t *doc, pinset_diag *diag)
{
    json_t *serial, *document, *sha256;
    const char *key, *hex;
    json_t *v;
    pinset_err err;

    if (!json_is_object(doc)) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "index is not a JSON object");
    }
    json_object_foreach(doc, key, v)
    {
        size_t i = 0;
        while (i < sizeof(members) / sizeof(members[0]) && strcmp(key, members[i]) != 0) {
            i++;
        }
        if (i == sizeof(members) / sizeof(members[0])) {
            char name[64];
            snprintf(name, sizeof(name), "%s", key);
            for (char *c = name; *c != '\0'; c++) {
                if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) {
                    *c = '?'; /* the name goes on a terminal */
                }
            }
            pinset__diag_path(diag, name);
            return PINSET_DIAG(diag, PINSET_E_PARSE,
                               "unknown member (serial, document, sha256, issued_at and "
                               "expires_at are expected)");
        }
    }
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        if (json_object_get(doc, members[i]) == NULL) {
            return refuse(diag, members[i], "is missing");
        }
    }
    serial = json_object_get(doc, "serial");
    if (!json_is_integer(serial) || json_integer_value(serial) < 1) {
        return refuse(diag, "serial", "is not a positive integer");
    }
    out->serial = (uint64_t)json_integer_value(serial);
    document = json_object_get(doc, "document");
    if (!json_is_string(document)) {
        return refuse(diag, "document", "is not a string");
    }
    err = check_document(json_string_value(document), json_string_length(document), diag);
    if (err != PINSET_OK) {
        return err;
    }
    memcpy(out->document, json_string_value(document), json_string_length(document) + 1);
    sha256 = json_object_get(doc, "sha256");
    if (!json_is_string(sha256) || json_string_length(sha256) != 2 * sizeof(out->sha256)) {
        return refuse(diag, "sha256", "is not 64 hex digits");
    }
    hex = json_string_value(sha256);
    if (pinset__hex_decode(out->sha256, hex, sizeof(out->sha256), 0) != 0) {
        return refuse(diag, "sha256", "is not 64 hex digits");
    }
    err = get_time(&out->issued_at, json_object_get(doc, "issued_at"), "issued_at", diag);
    if (err == PINSET_OK) {
        err = get_time(&out->expires_at, json_object_get(doc, "expires_at"), "expires_at", diag);
    }
    if (err == PINSET_OK && out->expires_at <= out->issued_at) {
        err = refuse(diag, "expires_at", "is not after issued_at");
    }
    return err;
}

pinset_err pinset_curl_update_index_parse(pinset_curl_update_index *out, const uint8_t *buf,
                                          size_t len, pinset_diag *diag)
{
    json_error_t jerr;
    json_t *doc;
    pinset_err err;

    if (out == NULL || (buf == NULL && len > 0)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument");
    }
    memset(out, 0, sizeof(*out));
    if (len > PINSET_CURL_UPDATE_INDEX_MAX_SIZE) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "index is larger than %zu octets",
                           PINSET_CURL_UPDATE_INDEX_MAX_SIZE);
    }
    /* jansson refuses NUL in strings (without JSON_ALLOW_NUL) and limits nesting to 2048 */
    doc = json_loadb(len > 0 ? (const char *)buf : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        /* jansson quotes the input near the error: keep the message on one printable line */
        for (char *c = jerr.text; *c != '\0'; c++) {
            if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f) {
                *c = '?';
            }
        }
        pinset__diag_pos(diag, (size_t)-1, jerr.line > 0 ? (size_t)jerr.line : 0,
                         jerr.column > 0 ? (size_t)jerr.column : 0,
                         jerr.position > 0 ? (size_t)jerr.position : 0);
        return PINSET_DIAG(diag, PINSET_E_PARSE, "index is not JSON: %s", jerr.text);
    }
    err = read_index(out, doc, diag);
    json_decref(doc);
    if (err != PINSET_OK) {
        memset(out, 0, sizeof(*out));
    }
    return err;
}
