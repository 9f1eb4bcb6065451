/*
 * cmd_publish.c - `pinset publish --root ROOT.pub --out DIR DOC`: lay a
 * signed policy update out as static files that any HTTP server can serve.
 *
 *   DIR/updates/SERIAL.dsse   the document, byte for byte as signed (never rewritten)
 *   DIR/index.json            {"serial", "document", "sha256", "issued_at", "expires_at"}
 *
 * The document is verified first (a broken or expired one is not published),
 * then written, then the index, each atomically (temporary, fsync, rename):
 * the index never names a document that is not there. The index never goes
 * back: a lower serial is refused, and so is the same serial with other bytes
 * (clients would see two documents for one serial).
 *
 * Exit 0: published (or the same document already was); 1: refused; 2: usage;
 * 3: DOC, a key or DIR could not be read or written.
 */
#define _POSIX_C_SOURCE 200809L /* mkdir, stat */

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <util/buf.h>
#include <util/read.h>
#include <util/rfc3339.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <pinset/update.h>

#include "cmd.h"
#include "common.h"
#include "input.h"
#include "out.h"
#include "outfile.h"
#include "update_doc.h"

#define PUBLISH_INDEX_MAX ((size_t)64 * 1024) /* index.json is a few lines */

enum { O_ROOT, O_OUT, O_NOW, O_END };

static const opt_spec publish_opts[] = {
    [O_ROOT] = {"root", 'r', "FILE", "a trusted public key (KEYFILE.pub); repeatable; required"},
    [O_OUT] = {"out", 'o', "DIR", "the directory to serve (must exist); required"},
    [O_NOW] = {"now", 0, "TIME", "judge validity at this RFC 3339 time instead of now"},
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_publish_spec = {
    "publish", "--root ROOT.pub --out DIR [--now TIME] DOC | -",
    "Lay a signed policy update out as static files, with an index of the current serial.",
    publish_opts};

/* What the directory's index.json says: serial 0 when there is none yet. */
typedef struct published {
    unsigned long long serial;
    char document[64];
} published;

/* Read DIR/index.json when it exists. EXIT_OK, or EXIT_INPUT after a message. */
static int read_index(published *out, const char *index, const char *name)
{
    struct pinset__buf b;
    pinset_diag d = PINSET_DIAG_INIT;
    json_error_t jerr;
    json_t *doc, *serial, *path;
    struct stat sb;
    int rc = EXIT_INPUT;

    memset(out, 0, sizeof(*out));
    if (stat(index, &sb) != 0 && errno == ENOENT) {
        return EXIT_OK; /* nothing published yet */
    }
    d.input = index;
    if (pinset__read_path(&b, index, PUBLISH_INDEX_MAX, 0, 0, &d) != PINSET_OK) {
        cli_err_diag("publish", &d);
        return EXIT_INPUT;
    }
    doc = json_loadb((const char *)b.p, b.len, JSON_REJECT_DUPLICATES, &jerr);
    serial = json_object_get(doc, "serial");
    path = json_object_get(doc, "document");
    if (doc == NULL || !json_is_integer(serial) || json_integer_value(serial) < 1 ||
        !json_is_string(path) || json_string_length(path) >= sizeof(out->document)) {
        cli_err("publish", "%s/index.json: not an index pinset publish wrote (%s)", name,
                doc == NULL ? jerr.text : "serial and document expected");
    } else {
        out->serial = (unsigned long long)json_integer_value(serial);
        snprintf(out->document, sizeof(out->document), "%s", json_string_value(path));
        rc = EXIT_OK;
    }
    json_decref(doc);
    pinset__buf_free(&b);
    return rc;
}

/* The file at path: FILE_MISSING, FILE_SAME (exactly these bytes), FILE_OTHER, or -1 (unreadable).
 */
enum { FILE_MISSING = 0, FILE_SAME = 1, FILE_OTHER = 2 };
static int same_file(const char *path, const struct pinset__buf *want)
{
    struct pinset__buf b;
    struct stat sb;
    int same;

    if (stat(path, &sb) != 0) {
        return errno == ENOENT ? FILE_MISSING : -1;
    }
    if (pinset__read_path(&b, path, PINSET_UPDATE_MAX_SIZE, 0, 0, NULL) != PINSET_OK) {
        return -1;
    }
    same = b.len == want->len && memcmp(b.p, want->p, b.len) == 0;
    pinset__buf_free(&b);
    return same ? FILE_SAME : FILE_OTHER;
}

/* Write bytes to path atomically (temporary, fsync, rename), mode 0644. EXIT_OK or EXIT_INPUT. */
static int write_atomic(const char *path, const void *p, size_t len)
{
    outfile of;
    char err[512];

    if (outfile_open(&of, path, err, sizeof(err)) != 0) {
        cli_err("publish", "%s", err);
        return EXIT_INPUT;
    }
    if (fwrite(p, 1, len, of.f) != len) {
        outfile_abort(&of);
        cli_err("publish", "cannot write %s", path);
        return EXIT_INPUT;
    }
    if (outfile_commit(&of, err, sizeof(err)) != 0) {
        cli_err("publish", "%s", err);
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

static int write_index(const char *index, const pinset_update *u, const char *docpath,
                       const struct pinset__buf *in)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char hex[2 * SHA256_DIGEST_LENGTH + 1], iss[OUT_TIME_MAX], exp[OUT_TIME_MAX];
    json_t *o = json_object();
    char *text = NULL;
    int rc;

    SHA256(in->p, in->len, md);
    for (size_t i = 0; i < sizeof(md); i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    (void)out_time_iso(iss, sizeof(iss), pinset_update_issued_at(u));
    (void)out_time_iso(exp, sizeof(exp), pinset_update_expires_at(u));
    if (o == NULL ||
        out_json_set(o, "serial", json_integer((json_int_t)pinset_update_serial(u))) != 0 ||
        out_json_set(o, "document", json_string(docpath)) != 0 ||
        out_json_set(o, "sha256", json_string(hex)) != 0 ||
        out_json_set(o, "issued_at", json_string(iss)) != 0 ||
        out_json_set(o, "expires_at", json_string(exp)) != 0 ||
        (text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL) {
        json_decref(o);
        cli_err("publish", "out of memory");
        return EXIT_INTERNAL;
    }
    json_decref(o);
    {
        size_t n = strlen(text);
        text[n] = '\n'; /* json_dumps leaves room: replace the NUL, write n + 1 */
        rc = write_atomic(index, text, n + 1);
    }
    free(text);
    return rc;
}

static int run_publish(const update_args *a)
{
    const char *dir = a->dir;
    EVP_PKEY *keys[UPDATE_DOC_MAX_ROOTS] = {NULL};
    struct pinset__buf in;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_update *u = NULL;
    published cur;
    char name[256], updates[4096], docpath[64], docfile[4200], index[4200];
    struct stat sb;
    int rc = EXIT_INPUT, same;

    pinset__buf_init(&in, 0, 0);
    out_safe_copy(name, sizeof(name), dir);
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        cli_err("publish", "%s: not a directory (--out must exist)", name);
        return EXIT_INPUT;
    }
    rc = update_doc_open(keys, &in, "publish", a);
    if (rc != EXIT_OK) {
        goto out;
    }
    d.input = cli_is_stdin(a->doc) ? CLI_STDIN_NAME : a->doc;
    if (pinset_update_verify(&u, in.p, in.len, (const EVP_PKEY *const *)keys, a->nroots, a->now,
                             &d) != PINSET_OK) {
        cli_err_diag("publish", &d);
        rc = EXIT_NEGATIVE; /* a document clients would refuse is not published */
        goto out;
    }
    snprintf(updates, sizeof(updates), "%s/updates", dir);
    snprintf(docpath, sizeof(docpath), "updates/%llu.dsse",
             (unsigned long long)pinset_update_serial(u));
    snprintf(docfile, sizeof(docfile), "%s/%s", dir, docpath);
    snprintf(index, sizeof(index), "%s/index.json", dir);
    rc = read_index(&cur, index, name);
    if (rc != EXIT_OK) {
        goto out;
    }
    if (pinset_update_serial(u) < cur.serial) {
        cli_err("publish", "%s: serial %llu is below the published %llu: the index never goes back",
                name, (unsigned long long)pinset_update_serial(u), cur.serial);
        rc = EXIT_NEGATIVE;
        goto out;
    }
    same = same_file(docfile, &in);
    if (same == -1 || same == FILE_OTHER) {
        cli_err("publish", "%s: %s holds another document of serial %llu: one serial, one document",
                name, docpath, (unsigned long long)pinset_update_serial(u));
        rc = EXIT_NEGATIVE;
        goto out;
    }
    if (mkdir(updates, 0755) != 0 && errno != EEXIST) {
        cli_err("publish", "%s/updates: %s", name, strerror(errno));
        rc = EXIT_INPUT;
        goto out;
    }
    /* the document first, then the index that names it */
    rc = same == FILE_SAME ? EXIT_OK : write_atomic(docfile, in.p, in.len);
    if (rc == EXIT_OK && (cur.serial != pinset_update_serial(u) || strcmp(cur.document, docpath))) {
        rc = write_index(index, u, docpath, &in);
    }
    if (rc == EXIT_OK) {
        printf("%s serial %llu: %s/%s, %s/index.json\n",
               same == FILE_SAME && cur.serial == pinset_update_serial(u) ? "already published"
                                                                          : "published",
               (unsigned long long)pinset_update_serial(u), name, docpath, name);
        rc = fflush(stdout) != 0 || ferror(stdout) ? cli_output_failed("publish") : EXIT_OK;
    }
out:
    pinset_update_free(u);
    pinset__buf_free(&in);
    update_doc_free_keys(keys, a->nroots);
    ERR_clear_error();
    return rc;
}

int cmd_publish(int argc, char **argv)
{
    static const update_opt_ids ids = {O_ROOT, O_NOW, O_OUT, -1, -1, -1, -1, -1};
    update_args a;
    int rc = update_args_parse(&a, &cmd_publish_spec, argc, argv, &ids,
                               "--root FILE, --out DIR and DOC are required");

    if (rc >= 0) {
        return rc;
    }
    if (a.dir[0] == '\0') {
        return opt_usage_error(&cmd_publish_spec, "--root FILE, --out DIR and DOC are required");
    }
    return run_publish(&a);
}
