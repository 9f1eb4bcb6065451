/*
 * fuzz_update_index.c - fuzz target for index.json, the index `pinset
 * publish` writes and `pinset update --index` follows (libpinset-curl,
 * curl_update.h).
 *
 * Target functions: pinset_curl_update_index_parse (jansson's parser with
 * duplicate keys refused, the members' types, the document path's rules, the
 * hex digest, the RFC 3339 times).
 * Properties checked (abort on violation): a refusal leaves the index zeroed
 * and sets the diag's code to the returned one with a non-empty one-line
 * message; an accepted index has a serial of at least 1, expires_at after
 * issued_at, and a document path that is relative and cannot leave the
 * index's directory (not empty, no leading "/", no "..", no empty segment,
 * only letters, digits, "-._~" and "/"), of at most
 * PINSET_CURL_UPDATE_INDEX_PATH_MAX octets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pinset/curl_update.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int path_ok(const char *p)
{
    size_t n = strlen(p);

    if (n == 0 || n > PINSET_CURL_UPDATE_INDEX_PATH_MAX || p[0] == '/' || p[n - 1] == '/' ||
        strstr(p, "..") != NULL || strstr(p, "//") != NULL) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("-._~/", c) != NULL)) {
            return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pinset_curl_update_index ix, zero;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err = pinset_curl_update_index_parse(&ix, data, size, &d);

    memset(&zero, 0, sizeof(zero));
    if (err != PINSET_OK) {
        if (memcmp(&ix, &zero, sizeof(ix)) != 0 || d.code != err || d.message[0] == '\0' ||
            strchr(d.message, '\n') != NULL) {
            abort();
        }
        return 0;
    }
    if (ix.serial < 1 || ix.expires_at <= ix.issued_at ||
        memchr(ix.document, '\0', sizeof(ix.document)) == NULL || !path_ok(ix.document)) {
        abort();
    }
    return 0;
}
