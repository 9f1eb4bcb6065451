/*
 * curl_update.c - fetching signed policy updates with libcurl and applying
 * them with the updater (include/pinset/curl_update.h). Part of
 * libpinset-curl: libpinset's public API only (update.h), no src/lib
 * internals; its buffer is plain malloc/realloc, outside the test build's
 * allocation-failure counter.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <pinset/curl_update.h>

#include "util/buf.h"
#include "util/diag.h"
#include "util/hex.h"

/* What the write callback holds: the sink, the cap and what came in. */
struct fetch {
    pinset_write_fn write;
    void *payload;
    size_t max;
    size_t got;
    int over;    /* the body grew over max */
    int refused; /* the sink refused */
};

/* The body in memory, for apply, and why the buffer refused it. */
struct mem {
    struct pinset__buf b;
    pinset_err err;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct fetch *f = arg;
    size_t len = size * n;

    if (len > f->max - f->got) {
        f->over = 1;
        return 0; /* CURLE_WRITE_ERROR: the transfer stops here */
    }
    if (len > 0 && f->write(data, len, f->payload) != 0) {
        f->refused = 1;
        return 0;
    }
    f->got += len;
    return len;
}

static int mem_sink(const char *buf, size_t len, void *payload)
{
    struct mem *m = payload;

    m->err = pinset__buf_append(&m->b, buf, len);
    return m->err != PINSET_OK;
}

static int scheme_is(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);

    return strncmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

/* Set every option of a transfer; 0, or 1 when libcurl refuses one (too old). */
static int setup(CURL *c, const char *url, const pinset_curl_update_options *o, struct fetch *f,
                 char *errbuf)
{
    long timeout = o->timeout_ms > 0 ? o->timeout_ms : PINSET_CURL_UPDATE_TIMEOUT_MS;
    long ctimeout =
        o->connect_timeout_ms > 0 ? o->connect_timeout_ms : PINSET_CURL_UPDATE_CONNECT_TIMEOUT_MS;
    int bad = 0;

    bad |= curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ctimeout) != CURLE_OK;
    /* refused from the Content-Length before the body, when the server sends one */
    bad |= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, f) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "pinset-updater") != CURLE_OK;
    if (o->max_redirects > 0) {
        bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_MAXREDIRS, o->max_redirects) != CURLE_OK;
        /* never from https down to http */
        bad |= curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
                                scheme_is(url, "https") ? "https" : "http,https") != CURLE_OK;
    } else {
        bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    }
    if (o->cafile != NULL) {
        bad |= curl_easy_setopt(c, CURLOPT_CAINFO, o->cafile) != CURLE_OK;
    }
    return bad;
}

/* The transfer of pinset_curl_update_fetch, with the cap `cap` (0: max_size) and `what` it fetches.
 */
static pinset_err fetch(const char *url, const pinset_curl_update_options *opts, size_t cap,
                        const char *what, pinset_write_fn write, void *payload, pinset_diag *diag)
{
    pinset_curl_update_options o = PINSET_CURL_UPDATE_OPTIONS_INIT;
    char errbuf[CURL_ERROR_SIZE];
    struct fetch f;
    long status = 0;
    CURLcode rc;
    CURL *c;

    if (url == NULL || write == NULL ||
        (opts != NULL &&
         (opts->version != PINSET_CURL_UPDATE_OPTIONS_VERSION || opts->max_redirects < 0 ||
          opts->max_redirects > PINSET_CURL_UPDATE_MAX_REDIRECTS))) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument or bad options");
    }
    if (opts != NULL) {
        o = *opts;
    }
    if (!scheme_is(url, "http") && !scheme_is(url, "https")) {
        return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "not an http:// or https:// url");
    }
    memset(&f, 0, sizeof(f));
    f.write = write;
    f.payload = payload;
    f.max =
        o.max_size > 0 && o.max_size < PINSET_UPDATE_MAX_SIZE ? o.max_size : PINSET_UPDATE_MAX_SIZE;
    if (cap > 0) {
        f.max = cap;
    }
    errbuf[0] = '\0';
    c = curl_easy_init();
    if (c == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "cannot create a libcurl handle");
    }
    if (setup(c, url, &o, &f, errbuf) != 0) {
        curl_easy_cleanup(c);
        return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                           "libcurl refused an option (libcurl too old?)");
    }
    rc = curl_easy_perform(c);
    (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (f.over || rc == CURLE_FILESIZE_EXCEEDED) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "fetch: the %s is larger than %zu octets", what,
                           f.max);
    }
    if (f.refused) {
        return PINSET_DIAG(diag, PINSET_E_IO, "fetch: the output refused the %s", what);
    }
    if (rc == CURLE_TOO_MANY_REDIRECTS) {
        return PINSET_DIAG(diag, PINSET_E_IO, "fetch: more than %ld redirects", o.max_redirects);
    }
    if (rc != CURLE_OK) {
        return PINSET_DIAG(diag, PINSET_E_IO, "fetch: %s",
                           errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
    }
    if (status >= 300 && status < 400) {
        return PINSET_DIAG(diag, PINSET_E_IO, "fetch: redirect refused (HTTP status %ld)", status);
    }
    if (status != 200) {
        return PINSET_DIAG(diag, PINSET_E_IO, "fetch: HTTP status %ld", status);
    }
    return PINSET_OK;
}

pinset_err pinset_curl_update_fetch(const char *url, const pinset_curl_update_options *opts,
                                    pinset_write_fn write, void *payload, pinset_diag *diag)
{
    return fetch(url, opts, 0, "document", write, payload, diag);
}

pinset_err pinset_curl_update_apply(pinset_update **update_out, pinset_updater_status *status_out,
                                    const char *url, const char *state_dir,
                                    const struct evp_pkey_st *const *roots, size_t nroots,
                                    const pinset_curl_update_options *opts, pinset_diag *diag)
{
    struct mem m = {.err = PINSET_OK};
    pinset_err err;

    pinset__buf_init(&m.b, PINSET_UPDATE_MAX_SIZE, 0);
    if (update_out != NULL) {
        *update_out = NULL;
    }
    if (status_out != NULL) {
        *status_out = PINSET_UPDATER_INVALID;
    }
    if (update_out == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument");
    }
    err = pinset_curl_update_fetch(url, opts, mem_sink, &m, diag);
    if (m.err == PINSET_E_NOMEM) {
        err = PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    if (err == PINSET_OK) {
        err = pinset_updater_apply_threshold(update_out, status_out, state_dir, m.b.p, m.b.len,
                                             roots, nroots, opts != NULL ? opts->threshold : 1,
                                             opts != NULL ? opts->now : 0, diag);
    }
    pinset__buf_free(&m.b);
    return err;
}

/*
 * The document's URL: its path from the index resolved against the index's
 * URL by libcurl's URL parser (RFC 3986 §5.2), never by string joining.
 * *out is a new string (free with curl_free).
 */
static pinset_err resolve(char **out, const char *index_url, const char *document,
                          pinset_diag *diag)
{
    CURLU *h = curl_url();
    CURLUcode rc = CURLUE_OUT_OF_MEMORY;

    *out = NULL;
    if (h != NULL) {
        rc = curl_url_set(h, CURLUPART_URL, index_url, 0);
        if (rc == CURLUE_OK) {
            rc = curl_url_set(h, CURLUPART_URL, document, 0); /* relative to the index */
        }
        if (rc == CURLUE_OK) {
            rc = curl_url_get(h, CURLUPART_URL, out, 0);
        }
        curl_url_cleanup(h);
    }
    if (rc != CURLUE_OK) {
        pinset__diag_path(diag, "document");
        return PINSET_DIAG(diag, rc == CURLUE_OUT_OF_MEMORY ? PINSET_E_NOMEM : PINSET_E_PARSE,
                           "document cannot be resolved against the index's URL: %s",
                           curl_url_strerror(rc));
    }
    return PINSET_OK;
}

/* The fetched document's bytes are those the index names (its sha256); else PINSET_E_NO_MATCH. */
static pinset_err check_digest(const struct pinset__buf *b, const pinset_curl_update_index *ix,
                               pinset_diag *diag)
{
    uint8_t md[32];
    unsigned int mdlen = 0;
    char got[65], want[65];

    if (EVP_Digest(b->len > 0 ? b->p : (const uint8_t *)"", b->len, md, &mdlen, EVP_sha256(),
                   NULL) != 1 ||
        mdlen != sizeof(md)) {
        ERR_clear_error();
        return PINSET_DIAG(diag, PINSET_E_CRYPTO, "sha256: cannot hash the document");
    }
    if (CRYPTO_memcmp(md, ix->sha256, sizeof(md)) != 0) {
        pinset__hex_encode(got, md, sizeof(md));
        pinset__hex_encode(want, ix->sha256, sizeof(md));
        pinset__diag_path(diag, "sha256");
        return PINSET_DIAG(diag, PINSET_E_NO_MATCH,
                           "the document's SHA-256 is %s, not the index's %s: not applied", got,
                           want);
    }
    return PINSET_OK;
}

pinset_err pinset_curl_update_apply_index(pinset_update **update_out,
                                          pinset_updater_status *status_out,
                                          pinset_curl_update_index *index_out,
                                          const char *index_url, const char *state_dir,
                                          const struct evp_pkey_st *const *roots, size_t nroots,
                                          const pinset_curl_update_options *opts, pinset_diag *diag)
{
    pinset_curl_update_options o = PINSET_CURL_UPDATE_OPTIONS_INIT;
    pinset_updater_status status = PINSET_UPDATER_INVALID;
    pinset_curl_update_index ix;
    struct mem m = {.err = PINSET_OK};
    pinset_update *cur = NULL;
    char *doc_url = NULL;
    uint64_t have = 0;
    pinset_err err;

    memset(&ix, 0, sizeof(ix));
    pinset__buf_init(&m.b, PINSET_UPDATE_MAX_SIZE, 0);
    if (update_out != NULL) {
        *update_out = NULL;
    }
    if (update_out == NULL || index_url == NULL || state_dir == NULL || roots == NULL ||
        nroots == 0 ||
        (opts != NULL &&
         (opts->version != PINSET_CURL_UPDATE_OPTIONS_VERSION || opts->max_redirects < 0 ||
          opts->max_redirects > PINSET_CURL_UPDATE_MAX_REDIRECTS))) {
        err = PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument or bad options");
        goto out;
    }
    if (opts != NULL) {
        o = *opts;
    }
    /* what the updater has: the applied document's serial (0: none yet) */
    err = pinset_updater_load_threshold(&cur, NULL, state_dir, roots, nroots, o.threshold, o.now,
                                        diag);
    if (err != PINSET_OK) {
        status = PINSET_UPDATER_STATE_ERROR;
        goto out;
    }
    have = cur != NULL ? pinset_update_serial(cur) : 0;
    err = fetch(index_url, opts, PINSET_CURL_UPDATE_INDEX_MAX_SIZE, "index", mem_sink, &m, diag);
    if (m.err == PINSET_E_NOMEM) {
        err = PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    if (err == PINSET_OK) {
        err = pinset_curl_update_index_parse(&ix, m.b.p, m.b.len, diag);
    }
    if (err != PINSET_OK) {
        goto out;
    }
    if (ix.serial <= have) {
        /* nothing newer: the index is a hint, so nothing is fetched and nothing written */
        status = PINSET_UPDATER_UP_TO_DATE;
        *update_out = cur;
        cur = NULL;
        goto out;
    }
    err = resolve(&doc_url, index_url, ix.document, diag);
    if (err != PINSET_OK) {
        goto out;
    }
    pinset__buf_free(&m.b);
    pinset__buf_init(&m.b, PINSET_UPDATE_MAX_SIZE, 0);
    err = fetch(doc_url, opts, 0, "document", mem_sink, &m, diag);
    if (m.err == PINSET_E_NOMEM) {
        err = PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    if (err != PINSET_OK) {
        pinset__diag_path(diag, "document");
        goto out;
    }
    /* bound to what the publisher indexed before the updater sees it */
    err = check_digest(&m.b, &ix, diag);
    if (err == PINSET_OK) {
        err = pinset_updater_apply_threshold(update_out, &status, state_dir, m.b.p, m.b.len, roots,
                                             nroots, o.threshold, o.now, diag);
    }
out:
    if (status_out != NULL) {
        *status_out = status;
    }
    if (index_out != NULL) {
        *index_out = ix;
    }
    curl_free(doc_url);
    pinset_update_free(cur);
    pinset__buf_free(&m.b);
    return err;
}
