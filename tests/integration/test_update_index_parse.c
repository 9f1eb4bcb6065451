/*
 * test_update_index_parse.c - the strict parser of index.json
 * (pinset_curl_update_index_parse, libpinset-curl's curl_update.h) on what
 * `pinset publish` writes and on hostile indexes: each refusal is
 * PINSET_E_PARSE (PINSET_E_LIMIT for the size) with the member at fault in
 * the diag's path and the index zeroed; and pinset_curl_update_apply_index's
 * argument checks. The end-to-end behaviour over HTTPS is
 * test_update_index.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pinset/curl_update.h>

#define SHA   "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"
#define TIMES "\"issued_at\": \"2026-12-01T00:00:00Z\", \"expires_at\": \"2027-01-01T00:00:00Z\""

static pinset_err parse(pinset_curl_update_index *ix, pinset_diag *d, const char *text)
{
    return pinset_curl_update_index_parse(ix, (const uint8_t *)text, strlen(text), d);
}

/* An index with the given document path (a JSON string literal's contents). */
static pinset_err parse_doc(pinset_curl_update_index *ix, pinset_diag *d, const char *doc)
{
    char text[4096];

    snprintf(text, sizeof(text),
             "{\"serial\": 3, \"document\": \"%s\", \"sha256\": \"" SHA "\", %s}", doc, TIMES);
    return parse(ix, d, text);
}

static void zeroed(const pinset_curl_update_index *ix)
{
    pinset_curl_update_index z;

    memset(&z, 0, sizeof(z));
    assert_memory_equal(ix, &z, sizeof(z));
}

static void expect_refused(pinset_err err, const pinset_curl_update_index *ix, const pinset_diag *d,
                           const char *path, const char *reason)
{
    assert_int_equal(err, PINSET_E_PARSE);
    assert_int_equal(d->code, PINSET_E_PARSE);
    assert_string_equal(d->path, path);
    if (strstr(d->message, reason) == NULL) {
        fail_msg("message '%s' lacks '%s'", d->message, reason);
    }
    zeroed(ix);
}

static void test_published(void **state)
{
    pinset_curl_update_index ix;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    assert_int_equal(parse(&ix, &d,
                           "{\n  \"serial\": 42,\n  \"document\": \"updates/42.dsse\",\n"
                           "  \"sha256\": \"" SHA "\",\n  " TIMES "\n}\n"),
                     PINSET_OK);
    assert_int_equal(ix.serial, 42);
    assert_string_equal(ix.document, "updates/42.dsse");
    assert_int_equal(ix.sha256[0], 0x00);
    assert_int_equal(ix.sha256[1], 0x11);
    assert_int_equal(ix.sha256[31], 0xff);
    assert_int_equal(ix.issued_at, 1796083200);  /* 2026-12-01 */
    assert_int_equal(ix.expires_at, 1798761600); /* 2027-01-01 */
    /* other relative paths a publisher may use */
    assert_int_equal(parse_doc(&ix, &d, "current.dsse"), PINSET_OK);
    assert_int_equal(parse_doc(&ix, &d, "a/b-c/d_e~f.dsse"), PINSET_OK);
}

static void test_hostile_document(void **state)
{
    static const struct {
        const char *doc, *reason;
    } cases[] = {
        {"../x", "contains \"..\""},
        {"updates/../../x", "contains \"..\""},
        {"updates/..", "contains \"..\""},
        {"/etc/passwd", "is an absolute path"},
        {"//evil.example/x", "is an absolute path"},
        {"\\\\evil\\\\x", "is an absolute path"},
        {"http://evil/", "has a scheme"},
        {"https://evil.example/updates/1.dsse", "has a scheme"},
        {"file:///etc/passwd", "has a scheme"},
        {"javascript:x", "has a scheme"},
        {"?a", "has a query"},
        {"updates/1.dsse?a=b", "has a query"},
        {"updates/1.dsse#x", "has a fragment"},
        {"", "is empty"},
        {"updates/%2e%2e/x", "character 0x25"},
        {"updates/1 .dsse", "character 0x20"},
        {"updates/a:b", "character 0x3a"},
        {"updates\\u00e9", "character 0xc3"},
        {"updates//1.dsse", "empty or \".\" segment"},
        {"updates/", "empty or \".\" segment"},
        {"./updates/1.dsse", "empty or \".\" segment"},
        {"updates/./1.dsse", "empty or \".\" segment"},
        {".", "empty or \".\" segment"},
    };
    pinset_curl_update_index ix;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pinset_diag d = PINSET_DIAG_INIT;
        print_message("document \"%s\"\n", cases[i].doc);
        expect_refused(parse_doc(&ix, &d, cases[i].doc), &ix, &d, "document", cases[i].reason);
    }
}

static void test_long_document(void **state)
{
    char doc[PINSET_CURL_UPDATE_INDEX_PATH_MAX + 2];
    pinset_curl_update_index ix;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    memset(doc, 'a', sizeof(doc) - 1);
    doc[sizeof(doc) - 1] = '\0';
    expect_refused(parse_doc(&ix, &d, doc), &ix, &d, "document", "longer than 1024 octets");
    doc[sizeof(doc) - 2] = '\0'; /* exactly the bound */
    assert_int_equal(parse_doc(&ix, &d, doc), PINSET_OK);
    assert_int_equal(strlen(ix.document), PINSET_CURL_UPDATE_INDEX_PATH_MAX);
}

static void test_members(void **state)
{
    static const struct {
        const char *text, *path, *reason;
    } cases[] = {
        /* serial */
        {"{\"serial\": 0, \"document\": \"d\", \"sha256\": \"" SHA "\", " TIMES "}", "serial",
         "not a positive integer"},
        {"{\"serial\": -1, \"document\": \"d\", \"sha256\": \"" SHA "\", " TIMES "}", "serial",
         "not a positive integer"},
        {"{\"serial\": 1.0, \"document\": \"d\", \"sha256\": \"" SHA "\", " TIMES "}", "serial",
         "not a positive integer"},
        {"{\"serial\": \"1\", \"document\": \"d\", \"sha256\": \"" SHA "\", " TIMES "}", "serial",
         "not a positive integer"},
        {"{\"serial\": true, \"document\": \"d\", \"sha256\": \"" SHA "\", " TIMES "}", "serial",
         "not a positive integer"},
        /* document */
        {"{\"serial\": 1, \"document\": 7, \"sha256\": \"" SHA "\", " TIMES "}", "document",
         "is not a string"},
        {"{\"serial\": 1, \"document\": null, \"sha256\": \"" SHA "\", " TIMES "}", "document",
         "is not a string"},
        /* sha256 */
        {"{\"serial\": 1, \"document\": \"d\", \"sha256\": \"abc\", " TIMES "}", "sha256",
         "not 64 hex digits"},
        {"{\"serial\": 1, \"document\": \"d\", \"sha256\": \"" SHA "00\", " TIMES "}", "sha256",
         "not 64 hex digits"},
        {"{\"serial\": 1, \"document\": \"d\", \"sha256\": "
         "\"g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\", " TIMES "}",
         "sha256", "not 64 hex digits"},
        {"{\"serial\": 1, \"document\": \"d\", \"sha256\": 5, " TIMES "}", "sha256",
         "not 64 hex digits"},
        /* times */
        {"{\"serial\": 1, \"document\": \"d\", \"sha256\": \"" SHA
         "\", \"issued_at\": 5, \"expires_at\": \"2027-01-01T00:00:00Z\"}",
         "issued_at", "is not a string"},
        {"{\"serial\": 1, \"document\": \"d\", \"sha256\": \"" SHA
         "\", \"issued_at\": \"yesterday\", \"expires_at\": \"2027-01-01T00:00:00Z\"}",
         "issued_at", "not an RFC 3339 time"},
        {"{\"serial\": 1, \"document\": \"d\", \"sha256\": \"" SHA
         "\", \"issued_at\": \"2027-01-01T00:00:00Z\", \"expires_at\": \"2026-01-01T00:00:00Z\"}",
         "expires_at", "not after issued_at"},
        /* missing and unknown members */
        {"{\"document\": \"d\", \"sha256\": \"" SHA "\", " TIMES "}", "serial", "is missing"},
        {"{\"serial\": 1, \"sha256\": \"" SHA "\", " TIMES "}", "document", "is missing"},
        {"{\"serial\": 1, \"document\": \"d\", " TIMES "}", "sha256", "is missing"},
        {"{\"serial\": 1, \"document\": \"d\", \"sha256\": \"" SHA
         "\", \"expires_at\": \"2027-01-01T00:00:00Z\"}",
         "issued_at", "is missing"},
        {"{\"serial\": 1, \"document\": \"d\", \"sha256\": \"" SHA "\", " TIMES
         ", \"url\": \"http://evil/\"}",
         "url", "unknown member"},
        {"{\"serial\": 1, \"document\": \"d\", \"sha256\": \"" SHA "\", " TIMES
         ", \"\\u001b[31m\": 1}",
         "?[31m", "unknown member"},
    };
    pinset_curl_update_index ix;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pinset_diag d = PINSET_DIAG_INIT;
        print_message("%s\n", cases[i].text);
        expect_refused(parse(&ix, &d, cases[i].text), &ix, &d, cases[i].path, cases[i].reason);
    }
}

static void test_not_an_index(void **state)
{
    static const char *const texts[] = {
        "",
        "[]",
        "\"index\"",
        "null",
        "{\"serial\": 1, \"serial\": 2}", /* duplicate keys */
        "{\"serial\": 1,",
        "{\"serial\": 99999999999999999999999}",
        "{\"document\": \"a\\u0000b\"}", /* NUL in a string */
    };
    pinset_curl_update_index ix;

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        pinset_diag d = PINSET_DIAG_INIT;
        print_message("%s\n", texts[i]);
        assert_int_equal(parse(&ix, &d, texts[i]), PINSET_E_PARSE);
        assert_non_null(strstr(d.message, "index is not"));
        zeroed(&ix);
    }
}

static void test_size_cap(void **state)
{
    size_t n = PINSET_CURL_UPDATE_INDEX_MAX_SIZE + 1;
    uint8_t *big = malloc(n);
    pinset_curl_update_index ix;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    assert_non_null(big);
    memset(big, ' ', n);
    assert_int_equal(pinset_curl_update_index_parse(&ix, big, n, &d), PINSET_E_LIMIT);
    assert_non_null(strstr(d.message, "larger than 65536 octets"));
    free(big);
}

static void test_bad_arguments(void **state)
{
    pinset_curl_update_index ix;
    pinset_update *u = (pinset_update *)&ix; /* must be reset to NULL */
    pinset_updater_status st = PINSET_UPDATER_APPLIED;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    assert_int_equal(pinset_curl_update_index_parse(NULL, (const uint8_t *)"{}", 2, &d),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_curl_update_index_parse(&ix, NULL, 2, &d), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_curl_update_apply_index(&u, &st, &ix, NULL, "state", NULL, 0, NULL, &d),
                     PINSET_E_INVALID_ARG);
    assert_null(u);
    assert_int_equal(st, PINSET_UPDATER_INVALID);
    zeroed(&ix);
    {
        /* bad options are refused before the state directory is read or anything fetched */
        pinset_curl_update_options o = PINSET_CURL_UPDATE_OPTIONS_INIT;
        const struct evp_pkey_st *roots[1] = {(const struct evp_pkey_st *)&o};
        o.max_redirects = PINSET_CURL_UPDATE_MAX_REDIRECTS + 1;
        d = (pinset_diag)PINSET_DIAG_INIT;
        assert_int_equal(pinset_curl_update_apply_index(&u, &st, &ix,
                                                        "http://127.0.0.1:1/index.json",
                                                        "no-such-state-dir", roots, 1, &o, &d),
                         PINSET_E_INVALID_ARG);
        assert_int_equal(st, PINSET_UPDATER_INVALID);
        assert_non_null(strstr(d.message, "bad options"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published),     cmocka_unit_test(test_hostile_document),
        cmocka_unit_test(test_long_document), cmocka_unit_test(test_members),
        cmocka_unit_test(test_not_an_index),  cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
